namespace OpenVision.Pipelines;

/// <summary>Expands files and folders into a sorted list of image files.</summary>
public static class ImageFiles
{
    /// <summary>File extensions treated as images when a folder is scanned.</summary>
    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>([".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Files are taken as given; folders are searched recursively for <see cref="Extensions"/>, in ordinal order.</summary>
    public static List<string> Expand(IEnumerable<string> pathsOrFolders)
    {
        var result = new List<string>();
        foreach (var path in pathsOrFolders)
        {
            if (Directory.Exists(path))
                result.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(f => Extensions.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal));
            else if (File.Exists(path)) result.Add(path);
            else throw new FileNotFoundException($"{path}: no such file or folder");
        }
        return result;
    }
}
