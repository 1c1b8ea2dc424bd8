using System.Diagnostics;
using System.Globalization;

namespace OpenVision.IO;

/// <summary>Temporary folders named after the process that owns them (<c>{prefix}-{pid}-{guid}</c>). A process stopped
/// before its own cleanup (a second Ctrl+C on a long benchmark, a test host its runner kills, SIGKILL) leaves its folder
/// behind; the next <see cref="Create"/> with the same prefix deletes the folders whose process no longer runs, so
/// leftovers of ONNX exports (100 MB and more each) do not pile up in the temporary folder.</summary>
public static class ProcessTempFolder
{
    /// <summary>Deletes the stale folders of <paramref name="prefix"/> under <paramref name="parent"/> (default: the
    /// system's temporary folder), then creates and returns a new empty one owned by this process.</summary>
    /// <param name="prefix">The folder name's first part: letters, digits, dots, dashes or underscores.</param>
    /// <param name="parent">Where to create it; created when missing.</param>
    public static string Create(string prefix, string? parent = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')))
            throw new ArgumentException($"a temporary folder prefix takes letters, digits, '.', '-' and '_' only, not '{prefix}'", nameof(prefix));
        parent ??= Path.GetTempPath();
        DeleteStale(parent, prefix);
        string folder = Path.Combine(parent, $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Deletes the folders <c>{prefix}-{pid}-*</c> under <paramref name="parent"/> whose process is not running;
    /// returns how many went. Folders of running processes, of this one, and names of another form stay.</summary>
    public static int DeleteStale(string parent, string prefix)
    {
        if (!Directory.Exists(parent)) return 0;
        string[] candidates;
        try { candidates = Directory.GetDirectories(parent, prefix + "-*"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }   // sweeping is a courtesy, never a failure
        int deleted = 0;
        foreach (string folder in candidates)
        {
            if (OwnerOf(Path.GetFileName(folder), prefix) is not { } pid || IsRunning(pid)) continue;
            try
            {
                Directory.Delete(folder, recursive: true);
                deleted++;
            }
            catch (IOException) { }                      // another process sweeping at the same moment, or in use
            catch (UnauthorizedAccessException) { }      // another user's folder in a shared /tmp
        }
        return deleted;
    }

    /// <summary>The process id in <c>{prefix}-{pid}-{guid}</c>, or null for any other name.</summary>
    internal static int? OwnerOf(string name, string prefix)
    {
        if (!name.StartsWith(prefix + "-", StringComparison.Ordinal)) return null;
        string[] parts = name[(prefix.Length + 1)..].Split('-');
        return parts.Length == 2 && parts[1].Length == 32 && parts[1].All(char.IsAsciiHexDigit)
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }          // no such process
        catch (InvalidOperationException) { return false; }   // exited meanwhile
    }
}
