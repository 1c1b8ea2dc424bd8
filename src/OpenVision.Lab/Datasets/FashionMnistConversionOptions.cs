using OpenVision.Training;
using OpenVision.Training.Data;

namespace OpenVision.Lab.Datasets;

/// <summary>Settings of a Fashion-MNIST → WebDataset conversion.</summary>
public sealed record FashionMnistConversionOptions
{
    /// <summary>Samples per shard (the train split gives 12 shards of 5,000 by default).</summary>
    public int SamplesPerShard { get; init; } = 5000;

    /// <summary>Seed of the generated texts.</summary>
    public long Seed { get; init; }

    /// <summary>Convert only the first this many images (all when null), e.g. for quick tests.</summary>
    public int? Limit { get; init; }
}
