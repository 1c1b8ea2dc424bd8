using static TorchSharp.torch;

namespace OpenVision.Training.Models;

/// <summary>What <see cref="ClipsTrainingModel.Encode"/> computes for one batch; the caller disposes it.</summary>
/// <param name="Features">[B, 3E]: the normalized image, alt-text and sub-caption features side by side (the
/// contrastive loss's inputs, and the layout that is all-gathered across ranks).</param>
/// <param name="VisionTokens">Last-block patch tokens [B, G, Wv], the decoder's image prefix.</param>
/// <param name="AltTextStates">Pre-ln_final alt-text states without the class position [B, L-1, Wt], the decoder's text prefix.</param>
public sealed record BatchEncoding(Tensor Features, Tensor VisionTokens, Tensor AltTextStates) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose()
    {
        Features.Dispose();
        VisionTokens.Dispose();
        AltTextStates.Dispose();
    }
}
