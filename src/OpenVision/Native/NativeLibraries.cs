namespace OpenVision.Native;

/// <summary>Which shared libraries the process has mapped, from <c>/proc/self/maps</c> (Linux).</summary>
public static class NativeLibraries
{
    /// <summary>True when a mapped file's name starts with <paramref name="namePrefix"/> (e.g. "libtorch_cpu");
    /// false where <c>/proc/self/maps</c> does not exist.</summary>
    public static bool IsLoaded(string namePrefix)
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return false;
        foreach (var line in File.ReadLines(maps))
        {
            int slash = line.LastIndexOf('/');
            if (slash >= 0 && line.AsSpan(slash + 1).StartsWith(namePrefix, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>Loads a shim this package ships (Linux x86-64): null when loaded, otherwise why not, for a status line —
    /// <paramref name="optOutVariable"/> set to 0, another platform, not built where the package was built (no C
    /// compiler or headers there), or a library that does not load.</summary>
    internal static string? TryLoadShipped(string fileName, string optOutVariable, out IntPtr handle)
    {
        handle = IntPtr.Zero;
        if (Environment.GetEnvironmentVariable(optOutVariable) == "0") return $"{optOutVariable}=0";
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            return $"{fileName} is Linux x86-64 only";
        string? path = FindShipped(fileName);
        if (path is null) return $"{fileName} not built: no C compiler or headers where the package was built";
        return System.Runtime.InteropServices.NativeLibrary.TryLoad(path, out handle) ? null : $"{path} does not load";
    }

    /// <summary>The path of a native library this package ships (built here or carried in runtimes/linux-x64/native),
    /// looked for in the app folder (this repository's builds and RID-specific apps), the host's native search
    /// directories (where a package's runtimes/linux-x64/native asset lands, wherever the host resolved it), then the
    /// app's runtimes/linux-x64/native folder; null when absent.</summary>
    internal static string? FindShipped(string fileName)
    {
        var folders = new List<string> { AppContext.BaseDirectory };
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirectories)
            folders.AddRange(searchDirectories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        folders.Add(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"));
        return folders.Select(folder => Path.Combine(folder, fileName)).FirstOrDefault(File.Exists);
    }
}
