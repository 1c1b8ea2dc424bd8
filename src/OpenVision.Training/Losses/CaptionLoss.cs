using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Losses;

/// <summary>The caption loss of OpenVision's <c>coca</c> recipe: token-level cross-entropy over every non-pad target,
/// Σ(mask · CE) / (Σ mask + 1e-8) over the whole batch (<c>losses.softmax_xent</c> with <c>cap_loss_mask</c>).</summary>
public static class CaptionLoss
{
    /// <summary>OpenVision's <c>get_autoreg_label</c>: targets = ids[:, 1:] followed by the pad id, and the loss mask
    /// = nonpad(ids)[:, 1:] followed by 0 (1 for every real token including [eos], 0 for pads).</summary>
    /// <param name="captionIds">Full-caption token ids [B, Q] (<c>[bos] … [eos] 0…</c>), int64.</param>
    /// <param name="padId">The pad id (0).</param>
    /// <returns>Targets [B, Q] int64 and a boolean mask [B, Q].</returns>
    public static (Tensor Targets, Tensor Mask) Targets(Tensor captionIds, long padId = 0)
    {
        if (captionIds.ndim != 2 || captionIds.dtype != ScalarType.Int64)
            throw new ArgumentException($"caption ids must be int64 [B, Q], got {captionIds.dtype} [{string.Join(", ", captionIds.shape)}]");
        using var scope = NewDisposeScope();
        var pad = torch.full(captionIds.shape[0], 1, padId, ScalarType.Int64, captionIds.device);
        var targets = torch.cat([captionIds[.., 1..], pad], 1);                // [B, Q]
        // The JAX mask comes from the padded length, not the ids; they agree because [PAD] never occurs inside a caption.
        var mask = targets.ne(padId);                                           // [B, Q]; the appended pad is masked
        return (targets.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>The number of targets the loss counts (real tokens including [eos]): the denominator of the batch mean.</summary>
    /// <param name="captionIds">Full-caption token ids [B, Q], int64.</param>
    /// <param name="padId">The pad id (0).</param>
    public static long TokenCount(Tensor captionIds, long padId = 0)
    {
        var (targets, mask) = Targets(captionIds, padId);
        using (targets)
        using (mask)
        using (var count = mask.sum())
            return count.item<long>();
    }

    /// <summary>Σ(mask · CE(logits, targets)) / (Σ mask + 1e-8).</summary>
    /// <param name="logits">Decoder logits [B, Q, V].</param>
    /// <param name="targets">Target ids [B, Q] int64, each below V.</param>
    /// <param name="mask">Which targets count [B, Q] (bool or 0/1).</param>
    public static Tensor Compute(Tensor logits, Tensor targets, Tensor mask) => Compute(logits, targets, mask, denominator: null);

    /// <summary>Σ(mask · CE(logits, targets)) / <paramref name="denominator"/>: a data-parallel rank passes its share
    /// of the global token count so that the mean over ranks is the global token mean.</summary>
    /// <param name="logits">Decoder logits [B, Q, V].</param>
    /// <param name="targets">Target ids [B, Q] int64, each below V.</param>
    /// <param name="mask">Which targets count [B, Q] (bool or 0/1).</param>
    /// <param name="denominator">The divisor; null means Σ mask + 1e-8.</param>
    public static Tensor Compute(Tensor logits, Tensor targets, Tensor mask, double? denominator)
    {
        if (logits.ndim != 3 || !targets.shape.SequenceEqual(logits.shape[..2]) || !mask.shape.SequenceEqual(targets.shape))
            throw new ArgumentException($"need logits [B, Q, V], targets and mask [B, Q]; got [{string.Join(", ", logits.shape)}], [{string.Join(", ", targets.shape)}], [{string.Join(", ", mask.shape)}]");
        using var scope = NewDisposeScope();
        var logProbabilities = nn.functional.log_softmax(logits, -1);                    // [B, Q, V]
        var nll = -logProbabilities.gather(-1, targets.unsqueeze(-1)).squeeze(-1);      // [B, Q]
        var weights = mask.to(nll.dtype);
        var sum = (nll * weights).sum();
        return (denominator is { } d ? sum / d : sum / (weights.sum() + 1e-8)).MoveToOuterDisposeScope();
    }

    /// <summary>The same loss as <see cref="Compute(Tensor, Tensor, Tensor)"/> from the decoder's query states [B, Q, W], applying the
    /// vocabulary head only where the mask counts: the [N, V] logits of real tokens instead of [B, Q, V]. With a
    /// 32,000-word head this is most of the decoder's cost, and captions are usually much shorter than Q.</summary>
    /// <param name="states">Normalized query states [B, Q, W].</param>
    /// <param name="head">The vocabulary projection [..., W] → [..., V].</param>
    /// <param name="captionIds">Full-caption ids [B, Q].</param>
    /// <param name="padId">The pad id (0).</param>
    /// <param name="denominator">The divisor; null means the number of real tokens + 1e-8 (a data-parallel rank passes its share of the global count).</param>
    public static Tensor FromStates(Tensor states, Func<Tensor, Tensor> head, Tensor captionIds, long padId = 0, double? denominator = null)
    {
        using var scope = NewDisposeScope();
        var (targets, mask) = Targets(captionIds.to(states.device), padId);
        var positions = mask.flatten().nonzero().squeeze(1);                            // [N] indices of real targets
        var selected = states.reshape(-1, states.shape[2]).index_select(0, positions);  // [N, W]
        var logits = head(selected);                                                      // [N, V]
        var nll = nn.functional.cross_entropy(logits, targets.flatten().index_select(0, positions), reduction: nn.Reduction.Sum);
        return (nll / (denominator ?? positions.shape[0] + 1e-8)).MoveToOuterDisposeScope();
    }

    /// <summary>The loss for decoder logits [B, Q, V] and full-caption ids [B, Q]: <see cref="Targets"/> then <see cref="Compute(Tensor, Tensor, Tensor)"/>.</summary>
    public static Tensor FromCaptionIds(Tensor logits, Tensor captionIds, long padId = 0)
    {
        using var scope = NewDisposeScope();
        var (targets, mask) = Targets(captionIds.to(logits.device), padId);
        return Compute(logits, targets, mask).MoveToOuterDisposeScope();
    }
}
