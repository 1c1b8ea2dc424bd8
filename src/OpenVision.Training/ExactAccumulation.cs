using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training;

/// <summary>Gradient accumulation that equals the whole batch: the gradients left in the parameters after
/// <see cref="Backward"/> over micro-batches are those of one backward pass over their concatenation, for both losses
/// (open_clip's <c>--accum-freq</c>, GradCache). Splitting the contrastive loss per micro-batch would not be: each
/// micro-batch would only see its own negatives, a smaller and easier task than the batch the config names.</summary>
/// <remarks>Three phases. (1) Every micro-batch goes through both towers without autograd, keeping only its
/// normalized features [b, 3E]. (2) The contrastive loss of the whole batch is computed from the cached features
/// (all-gathered across ranks in a data-parallel run) and differentiated with respect to them and the temperature.
/// (3) Each micro-batch is encoded again with autograd and backpropagated with Σ(features · their cached gradient),
/// which by the chain rule sends exactly the whole-batch contrastive gradient into the towers, plus its caption loss
/// divided by the whole batch's token count, so the parts sum to the whole-batch token mean.
/// Cost: each micro-batch goes through both towers twice (the decoder once); a forward pass is roughly a third of
/// forward + backward, so the towers' compute per step grows by up to about a third over plain accumulation. The
/// step's micro-batches (its share of the input tensors) and the [B, 3E] features and their gradient stay in memory
/// until the step ends; activation memory stays that of one micro-batch. Both forward passes
/// must compute the same features: the models have no dropout (patch dropout is refused by the config) and the
/// micro-batches, already augmented, are reused as they are.</remarks>
public static class ExactAccumulation
{
    /// <summary>Accumulates into the parameters' gradients (zero them first) the gradient of the weighted loss of the
    /// batch formed by <paramref name="microBatches"/> (this rank's share of it in a data-parallel run).</summary>
    /// <param name="model">The model, in training mode.</param>
    /// <param name="microBatches">The step's micro-batches, in order; one micro-batch is a plain forward and backward.</param>
    /// <param name="distributed">The ranks of a data-parallel run: every rank calls this with the same number of
    /// equally sized micro-batches, then averages gradients; the mean over ranks of the returned losses is the global
    /// batch's. One process is <see cref="SingleProcessContext"/>.</param>
    /// <returns>This rank's losses: contrastive (whole batch), caption and the weighted total.</returns>
    public static (double Contrastive, double Caption, double Total) Backward(ClipsTrainingModel model, IReadOnlyList<TrainingBatch> microBatches,
        IDistributedContext distributed)
    {
        ArgumentNullException.ThrowIfNull(distributed);
        if (microBatches.Count == 0) throw new ArgumentException("at least one micro-batch is needed", nameof(microBatches));
        if (microBatches.Count == 1) return PlainBackward(model, microBatches[0], distributed);
        using var scope = NewDisposeScope();

        var parts = new List<Tensor>();
        long tokens = 0;
        using (no_grad())
            foreach (var batch in microBatches)
            {
                using var encoded = model.Encode(batch.Pixels, batch.AltTextIds, batch.SubCaptionIds);
                parts.Add(encoded.Features.detach());
                tokens += Losses.CaptionLoss.TokenCount(batch.CaptionIds);
            }

        var cached = torch.cat(parts, 0).requires_grad_(true);                      // [B, 3E], a leaf
        var contrastive = model.ContrastiveFromFeatures(cached, distributed);
        (contrastive * model.Weights.Contrastive).backward();                       // into the cache and the temperature
        var featureGradient = cached.grad ?? throw new InvalidOperationException("the contrastive loss did not reach the cached features");
        double denominator = ClipsTrainingModel.CaptionDenominator(tokens, distributed);

        double caption = 0;
        long offset = 0;
        foreach (var batch in microBatches)
        {
            using var microScope = NewDisposeScope();
            using var encoded = model.Encode(batch.Pixels, batch.AltTextIds, batch.SubCaptionIds);
            long rows = encoded.Features.shape[0];
            var captionLoss = model.CaptionFromEncoding(encoded, batch.CaptionIds, denominator);
            var surrogate = (encoded.Features * featureGradient.narrow(0, offset, rows)).sum() + captionLoss * model.Weights.Caption;
            surrogate.backward();
            caption += Value(captionLoss);
            offset += rows;
        }
        double contrastiveValue = Value(contrastive);
        return (contrastiveValue, caption, model.Weights.Contrastive * contrastiveValue + model.Weights.Caption * caption);
    }

    private static (double, double, double) PlainBackward(ClipsTrainingModel model, TrainingBatch batch, IDistributedContext distributed)
    {
        using var scope = NewDisposeScope();
        using var losses = model.Forward(batch.Pixels, batch.AltTextIds, batch.SubCaptionIds, batch.CaptionIds, distributed);
        losses.Total.backward();
        return losses.ToDoubles();
    }

    private static double Value(Tensor scalar)
    {
        using var value = scalar.detach().to(ScalarType.Float64, CPU);
        return value.item<double>();
    }
}
