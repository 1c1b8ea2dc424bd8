using OpenVision.Pipelines;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Image features of a labelled data set, as a linear probe consumes them.</summary>
/// <param name="Features">[N, E] float32 features (as the encoder returned them). The set owns the tensor.</param>
/// <param name="Labels">[N] class indices.</param>
/// <param name="ClassNames">Class names in label order.</param>
/// <param name="Skipped">Samples that could not be decoded.</param>
/// <param name="FromCache">True when the features were read from the feature cache.</param>
public sealed record FeatureSet(Tensor Features, long[] Labels, IReadOnlyList<string> ClassNames, IReadOnlyList<SkippedItem> Skipped, bool FromCache) : IDisposable
{
    /// <summary>Rate of the encode loop that produced the features; null when they came from the cache.</summary>
    public EncodeThroughput? Throughput { get; init; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <inheritdoc/>
    public void Dispose() => Features.Dispose();
}
