using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Losses;

/// <summary>The softmax (InfoNCE) contrastive loss of OpenVision's <c>coca</c> recipe (<c>losses/common.py</c>,
/// <c>bidirectional_contrastive_loss</c> with <c>local_loss=True</c>).</summary>
/// <remarks>For one text set, with t = exp(logit_scale) (no clamp) and L2-normalized features, each local row r with
/// global label o + r (o = rank offset) contributes ½(CE(t·zimg_r·ztxtᵀ, o+r) + CE(t·ztxt_r·zimgᵀ, o+r)), where the
/// columns are the global (all-gathered) features. The loss is the mean over local rows, then over text sets.
/// A data-parallel trainer averages these local losses over ranks (JAX <c>pmean</c>); in one process, local = global
/// and the offset is 0.</remarks>
public static class ContrastiveLoss
{
    /// <summary>z / (‖z‖₂ + 1e-8) along the last dimension, as OpenVision's JAX <c>two_towers</c> normalizes.</summary>
    public static Tensor Normalize(Tensor features)
    {
        using var scope = NewDisposeScope();
        var norm = features.square().sum(-1, keepdim: true).sqrt();             // [B, 1]
        return (features / (norm + 1e-8)).MoveToOuterDisposeScope();
    }

    /// <summary>The single-process loss: mean over <paramref name="texts"/> of ½(CE_i→t + CE_t→i), the batch being whole.</summary>
    /// <param name="image">Normalized image features [B, E].</param>
    /// <param name="texts">One or more sets of normalized text features [B, E], row i paired with image i.</param>
    /// <param name="scale">t = exp(logit_scale), a scalar tensor (gradients flow into it).</param>
    public static Tensor Compute(Tensor image, IReadOnlyList<Tensor> texts, Tensor scale) =>
        Local(image, texts, image, texts, scale, rankOffset: 0);

    /// <summary>The local loss of one data-parallel rank, averaged over text sets: local rows scored against global columns.</summary>
    /// <param name="localImage">This rank's normalized image features [b, E].</param>
    /// <param name="localTexts">This rank's normalized text features, one [b, E] per text set.</param>
    /// <param name="globalImage">All ranks' image features [N, E], rank order (this rank's rows at <paramref name="rankOffset"/>).</param>
    /// <param name="globalTexts">All ranks' text features, one [N, E] per text set, same order.</param>
    /// <param name="scale">t = exp(logit_scale), a scalar tensor.</param>
    /// <param name="rankOffset">Global index of this rank's first row (rank · b).</param>
    public static Tensor Local(Tensor localImage, IReadOnlyList<Tensor> localTexts, Tensor globalImage,
        IReadOnlyList<Tensor> globalTexts, Tensor scale, long rankOffset)
    {
        if (localTexts.Count == 0 || localTexts.Count != globalTexts.Count)
            throw new ArgumentException($"need at least one text set and as many global as local sets, got {localTexts.Count} and {globalTexts.Count}");
        using var scope = NewDisposeScope();
        var sum = Local(localImage, localTexts[0], globalImage, globalTexts[0], scale, rankOffset);
        for (int i = 1; i < localTexts.Count; i++)
            sum = sum + Local(localImage, localTexts[i], globalImage, globalTexts[i], scale, rankOffset);
        return (sum / localTexts.Count).MoveToOuterDisposeScope();
    }

    /// <summary>The local loss for one text set: mean over local rows of ½(CE_i→t + CE_t→i).</summary>
    /// <param name="localImage">This rank's normalized image features [b, E].</param>
    /// <param name="localText">This rank's normalized text features [b, E].</param>
    /// <param name="globalImage">All ranks' image features [N, E].</param>
    /// <param name="globalText">All ranks' text features [N, E].</param>
    /// <param name="scale">t = exp(logit_scale), a scalar tensor.</param>
    /// <param name="rankOffset">Global index of this rank's first row.</param>
    public static Tensor Local(Tensor localImage, Tensor localText, Tensor globalImage, Tensor globalText, Tensor scale, long rankOffset)
    {
        long local = localImage.shape[0], global = globalImage.shape[0];
        if (localImage.ndim != 2 || !localText.shape.SequenceEqual(localImage.shape))
            throw new ArgumentException($"local image and text features must both be [b, E], got [{string.Join(", ", localImage.shape)}] and [{string.Join(", ", localText.shape)}]");
        if (globalImage.ndim != 2 || !globalText.shape.SequenceEqual(globalImage.shape) || globalImage.shape[1] != localImage.shape[1])
            throw new ArgumentException($"global image and text features must both be [N, E], got [{string.Join(", ", globalImage.shape)}] and [{string.Join(", ", globalText.shape)}]");
        if (rankOffset < 0 || rankOffset + local > global)
            throw new ArgumentOutOfRangeException(nameof(rankOffset), $"rows {rankOffset}..{rankOffset + local - 1} do not fit in a global batch of {global}");
        using var scope = NewDisposeScope();
        var labels = torch.arange(rankOffset, rankOffset + local, ScalarType.Int64, localImage.device);
        var imageToText = scale * localImage.matmul(globalText.T);             // [b, N]
        var textToImage = scale * localText.matmul(globalImage.T);             // [b, N]
        var loss = (nn.functional.cross_entropy(imageToText, labels) + nn.functional.cross_entropy(textToImage, labels)) * 0.5;
        return loss.MoveToOuterDisposeScope();
    }
}
