namespace OpenVision.Tests;

/// <summary>Locates ../shared/reference (the reference implementation's outputs) from the test binaries.</summary>
public static class ReferenceData
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The reference folder; set OPENVISION_REFERENCE to override.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A path inside the reference folder.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The repository root (the folder holding OpenVision.slnx).</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "OpenVision.slnx"))) return dir.FullName;
            throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    private static string FindRoot()
    {
        string? overridden = Environment.GetEnvironmentVariable("OPENVISION_REFERENCE");
        if (!string.IsNullOrEmpty(overridden)) return overridden;
        string candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared", "reference"));
        if (Directory.Exists(candidate)) return candidate;
        // A failing test, not a skip: the parity claims depend on this data.
        throw new InvalidOperationException($"reference data not found at {candidate}; set OPENVISION_REFERENCE to its folder");
    }
}
