namespace OpenVision.IO;

/// <summary>Writes a file so that readers see the old content or the whole new content, never a part: the bytes go
/// to a temporary file beside the target (same folder, so the rename stays on one file system), which then replaces
/// the target in one rename. A failed write leaves the target untouched and removes the temporary file; an OS error
/// about the temporary file is reported as one about the target (<see cref="WriteError"/>), since that is the file
/// the caller asked for.</summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through a stream; <paramref name="write"/> must not close it.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="write">Writes the whole content.</param>
    /// <param name="bufferSize">The file stream's buffer in bytes.</param>
    public static void Write(string path, Action<Stream> write, int bufferSize = 1 << 20)
    {
        ArgumentNullException.ThrowIfNull(write);
        Commit(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize);
            write(stream);
        });
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="path"/>.</summary>
    public static void WriteAllText(string path, string text) => Commit(path, temp => File.WriteAllText(temp, text));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Commit(path, temp => File.WriteAllBytes(temp, bytes));

    /// <summary>Lets <paramref name="create"/> make the temporary file (any way: a copy, a link, a writer of its own),
    /// then moves it over <paramref name="path"/>.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="create">Creates the file at the temporary path it is given.</param>
    /// <param name="overwrite">False: an existing target is an error (<see cref="IOException"/>), so the first of
    /// several concurrent writers wins.</param>
    public static void Commit(string path, Action<string> create, bool overwrite = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(create);
        string temp = TemporaryPathFor(path);
        try
        {
            create(temp);
            File.Move(temp, path, overwrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && Names(e, temp))
        {
            throw WriteError(path, e);
        }
        finally
        {
            // A leftover may be a dangling symbolic link, which File.Exists does not see.
            if (File.Exists(temp) || new FileInfo(temp).LinkTarget is not null) File.Delete(temp);
        }
    }

    /// <summary>An error for a failed write of <paramref name="path"/> that names it and the problem in the OS's words,
    /// e.g. <c>out/x.npy: cannot write (no space left on device)</c>, for an OS error that names a temporary or part
    /// file the user never asked for.</summary>
    /// <param name="path">The output the failed write was for.</param>
    /// <param name="error">The OS error (an <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>).</param>
    public static IOException WriteError(string path, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new IOException($"{path}: cannot write ({Reason(error)})", error);
    }

    /// <summary>Whether <paramref name="error"/> is about the file at <paramref name="file"/> (its message names it).</summary>
    public static bool Names(Exception error, string file) =>
        error.Message.Contains(Path.GetFileName(file), StringComparison.Ordinal);

    private static string Reason(Exception error)
    {
        switch (error)
        {
            case UnauthorizedAccessException: return "permission denied";
            case DirectoryNotFoundException or FileNotFoundException: return "its folder does not exist";
        }
        // .NET on Unix words an errno as "<strerror> : '<path>'"; the path is the temporary file's, so only the first part is kept.
        string message = error.Message;
        int at = message.IndexOf(" : '", StringComparison.Ordinal);
        string reason = (at > 0 ? message[..at] : message).Trim().TrimEnd('.');
        return reason.Length > 1 && char.IsUpper(reason[0]) && !char.IsUpper(reason[1]) ? char.ToLowerInvariant(reason[0]) + reason[1..] : reason;
    }

    /// <summary>Why a file cannot be written at <paramref name="path"/>, as far as can be told before writing it: its
    /// folder is missing, or the path is a folder (null when neither); for refusing an output before the work whose
    /// result it would hold.</summary>
    public static string? OutputProblem(string path)
    {
        if (MissingFolder(path) is { } folder) return $"the folder {folder} does not exist";
        return Directory.Exists(path) ? "is a folder; give a file path" : null;
    }

    /// <summary>The folder a file at <paramref name="path"/> would go in, when that folder does not exist (null when it
    /// does): for refusing an output before work whose result it would hold, not after.</summary>
    public static string? MissingFolder(string path) =>
        Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder && !Directory.Exists(folder) ? folder : null;

    /// <summary>A temporary path beside <paramref name="path"/>, unique to this call (process and a random part), so
    /// concurrent writers never share one.</summary>
    public static string TemporaryPathFor(string path) => $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}
