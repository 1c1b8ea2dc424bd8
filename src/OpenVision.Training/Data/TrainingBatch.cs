using static TorchSharp.torch;

namespace OpenVision.Training.Data;

/// <summary>One batch for <c>ClipsTrainingModel.Forward</c>; the receiver disposes it.</summary>
/// <param name="Keys">Sample keys, in batch order.</param>
/// <param name="Labels">Class labels, −1 where a sample has none.</param>
/// <param name="Pixels">[B, 3, S, S] float32, augmented and normalised.</param>
/// <param name="AltTextIds">[B, 80] int64 alt-text ids ([bos] … [eos] 0 … [CLS]).</param>
/// <param name="SubCaptionIds">[B, 80] int64 ids of one random caption sentence (the alt-text when there is no caption).</param>
/// <param name="CaptionIds">[B, 128] int64 decoder targets ([bos] … [eos] 0 …).</param>
/// <param name="WithoutCaption">Samples in this batch that had no synthetic caption (both texts from the alt-text).</param>
/// <param name="Position">The data position after this batch: save it to resume right after it.</param>
public sealed record TrainingBatch(IReadOnlyList<string> Keys, IReadOnlyList<int> Labels, Tensor Pixels, Tensor AltTextIds,
    Tensor SubCaptionIds, Tensor CaptionIds, int WithoutCaption, DataPosition Position) : IDisposable
{
    /// <summary>Samples in the batch.</summary>
    public int Count => Keys.Count;

    /// <inheritdoc/>
    public void Dispose()
    {
        Pixels.Dispose();
        AltTextIds.Dispose();
        SubCaptionIds.Dispose();
        CaptionIds.Dispose();
    }
}
