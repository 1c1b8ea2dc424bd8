namespace OpenVision.Training.Tests.Evaluation;

/// <summary>Finds ../shared/reference (reference images and the tiny reference model) from the test binaries;
/// OPENVISION_REFERENCE overrides it, as in OpenVision.Tests.</summary>
public static class ReferenceFiles
{
    public static string Root
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable("OPENVISION_REFERENCE");
            if (!string.IsNullOrEmpty(overridden)) return overridden;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "OpenVision.slnx")))
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "reference"));
            throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    public static string Image(string name) => Path.Combine(Root, "preprocess", "images", name);

    public static string TinyModel => Path.Combine(Root, "models", "openvision-vit-tiny-patch16-160");
}
