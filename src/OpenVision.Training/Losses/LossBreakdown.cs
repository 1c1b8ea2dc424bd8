using static TorchSharp.torch;

namespace OpenVision.Training.Losses;

/// <summary>The training losses of one step, each a scalar tensor (autograd intact); the caller disposes them.</summary>
/// <param name="Contrastive">Softmax InfoNCE averaged over the two text sets.</param>
/// <param name="Caption">Token-level caption cross-entropy.</param>
/// <param name="Total">The weighted sum that is differentiated.</param>
public sealed record LossBreakdown(Tensor Contrastive, Tensor Caption, Tensor Total) : IDisposable
{
    /// <summary>Total = weights.Contrastive · contrastive + weights.Caption · caption.</summary>
    public static LossBreakdown Combine(Tensor contrastive, Tensor caption, LossWeights weights)
    {
        using var scope = NewDisposeScope();
        var total = contrastive * weights.Contrastive + caption * weights.Caption;
        return new LossBreakdown(contrastive, caption, total.MoveToOuterDisposeScope());
    }

    /// <summary>The three losses as doubles, for logging.</summary>
    public (double Contrastive, double Caption, double Total) ToDoubles() => (Value(Contrastive), Value(Caption), Value(Total));

    private static double Value(Tensor t)
    {
        using var _ = no_grad();
        using var d = t.detach().to(ScalarType.Float64, CPU);
        return d.item<double>();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Contrastive.Dispose();
        Caption.Dispose();
        Total.Dispose();
    }
}
