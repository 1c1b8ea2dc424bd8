using OpenVision.Training.Augmentation;
using OpenVision.Vision;

namespace OpenVision.Training.Data;

/// <summary>How <see cref="TrainingBatcher"/> builds batches: size, resolution, augmentation, seed and threads.</summary>
public sealed record TrainingBatcherOptions
{
    /// <summary>Image side in pixels (the stage's resolution).</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Samples per batch; a short remainder at the end of an epoch is dropped. With a <see cref="Split"/>, the
    /// global batch: each rank's batches hold BatchSize / N of its samples.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Data-parallel reading: this rank decodes only its block of every global batch of <see cref="BatchSize"/>
    /// (see <see cref="TrainingBatcher"/>); null reads whole batches.</summary>
    public RankSplit? Split { get; init; }

    /// <summary>Training augmentation; <see cref="AugmentationOptions.None"/> for the evaluation transform.</summary>
    public AugmentationOptions Augmentation { get; init; } = AugmentationOptions.OpenVision;

    /// <summary>Seed of the per-sample draws (crop, jitter, sentence choice).</summary>
    public long Seed { get; init; }

    /// <summary>Threads that decode, augment and tokenize samples.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Finished batches held ahead of the consumer.</summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>Image decoder limits.</summary>
    public ImageDecoderOptions? DecoderOptions { get; init; }

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (ImageSize < 1) throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "must be positive");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be positive");
        if (Workers < 1) throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "must be positive");
        if (PrefetchBatches < 1) throw new ArgumentOutOfRangeException(nameof(PrefetchBatches), PrefetchBatches, "must be positive");
        Split?.LocalBatchSize(BatchSize);
        ArgumentNullException.ThrowIfNull(Augmentation);
        Augmentation.Validate();
    }
}
