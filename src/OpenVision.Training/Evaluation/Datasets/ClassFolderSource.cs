using OpenVision.Pipelines;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>An image folder per class (ImageNet and torchvision ImageFolder layout): sub-folders sorted by
/// ordinal name give the label order, and every image below a sub-folder belongs to it.</summary>
public sealed class ClassFolderSource : ILabeledImageSource
{
    private readonly List<(string Path, int Label)> files = [];
    private readonly Lazy<string> fingerprint;

    /// <summary>Scans <paramref name="root"/>.</summary>
    /// <param name="root">Folder holding one sub-folder per class.</param>
    /// <param name="classNames">Names in the sub-folders' sorted order (e.g. ImageNet's CLIP names for its
    /// synset folders); null uses the folder names.</param>
    /// <param name="name">Data set name; null uses the folder's name.</param>
    public ClassFolderSource(string root, IReadOnlyList<string>? classNames = null, string? name = null)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder");
        // torchvision ImageFolder: sorted(entry.name) — Python sorts by code point, i.e. ordinal.
        var folders = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0) throw new InvalidDataException($"{root}: no class sub-folders");
        if (classNames is not null && classNames.Count != folders.Count)
            throw new InvalidDataException($"{root}: {folders.Count} class folders but {classNames.Count} class names");
        ClassNames = classNames ?? folders.Select(f => Path.GetFileName(f)!).ToList();
        for (int label = 0; label < folders.Count; label++)
            foreach (var file in ImageFiles.Expand([folders[label]])) files.Add((file, label));
        if (files.Count == 0) throw new InvalidDataException($"{root}: the class folders hold no images ({string.Join(", ", ImageFiles.Extensions)})");
        Name = name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)));
        fingerprint = new(() => "folder:" + FileFingerprint.Of(files.Select(f => f.Path)));
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public long? Count => files.Count;

    /// <inheritdoc/>
    public string? Fingerprint => fingerprint.Value;

    /// <inheritdoc/>
    public IEnumerable<LabeledImage> Read(CancellationToken cancellationToken = default)
    {
        foreach (var (path, label) in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new LabeledImage(ImageSample.FromFile(path), label);
        }
    }
}
