namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>A classification data set read as a stream: class folders, a CSV, IDX files or WebDataset shards.
/// Reading may be repeated; each read yields the samples in the same order.</summary>
public interface ILabeledImageSource
{
    /// <summary>Data set name, the "dataset" field of CLIP_benchmark results.</summary>
    string Name { get; }

    /// <summary>Class names in label order.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of samples if known without reading them (for progress bars).</summary>
    long? Count { get; }

    /// <summary>A string that changes when the data changes (paths, sizes, times), for the feature cache; null
    /// when the source cannot tell, which disables caching.</summary>
    string? Fingerprint { get; }

    /// <summary>Yields the samples in a fixed order.</summary>
    IEnumerable<LabeledImage> Read(CancellationToken cancellationToken = default);
}

/// <summary>Image–caption pairs for retrieval (COCO, Flickr30k): a manifest or WebDataset shards.</summary>
public interface ICaptionedImageSource
{
    /// <summary>Data set name, the "dataset" field of CLIP_benchmark results.</summary>
    string Name { get; }

    /// <summary>Number of images if known without reading them.</summary>
    long? Count { get; }

    /// <summary>Yields images with their captions in a fixed order.</summary>
    IEnumerable<CaptionedImage> Read(CancellationToken cancellationToken = default);
}
