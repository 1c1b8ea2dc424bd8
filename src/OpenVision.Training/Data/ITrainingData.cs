using static TorchSharp.torch;

namespace OpenVision.Training.Data;

/// <summary>A batch ready for <see cref="Models.ClipsTrainingModel.Forward"/>; the receiver disposes it.</summary>
/// <param name="Pixels">[B, 3, S, S] normalized, augmented images.</param>
/// <param name="AltTextIds">[B, 80] alt-text ids.</param>
/// <param name="SubCaptionIds">[B, 80] ids of one random sentence of the synthetic caption.</param>
/// <param name="CaptionIds">[B, Q] full caption ids for the decoder.</param>
public sealed record TrainingBatch(Tensor Pixels, Tensor AltTextIds, Tensor SubCaptionIds, Tensor CaptionIds) : IDisposable
{
    /// <summary>Samples in the batch.</summary>
    public int Count => (int)Pixels.shape[0];

    /// <inheritdoc/>
    public void Dispose()
    {
        Pixels.Dispose();
        AltTextIds.Dispose();
        SubCaptionIds.Dispose();
        CaptionIds.Dispose();
    }
}

/// <summary>An endless, deterministic stream of training batches that can start at any sample position, so a
/// resumed run sees exactly the batches an uninterrupted one would.</summary>
public interface ITrainingData
{
    /// <summary>Batches of <paramref name="batchSize"/> at <paramref name="imageSize"/> px, starting at global sample
    /// index <paramref name="startSample"/> (epochs follow each other; order and augmentation depend only on the seed and the index).</summary>
    IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, long startSample, CancellationToken cancellationToken);

    /// <summary>Samples skipped so far (corrupt images, missing texts) with a reason each, for the report.</summary>
    long SkippedSamples { get; }

    /// <summary>True when samples lacked a synthetic caption and both texts came from the alt-text.</summary>
    bool CaptionsFellBackToAltText { get; }
}
