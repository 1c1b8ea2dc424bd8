namespace OpenVision.Training.Losses;

/// <summary>Weights of the two CLIPS losses (OpenVision config: <c>clip_loss_weight</c>, <c>coca_caption_loss_weight</c>).</summary>
public sealed record LossWeights
{
    /// <summary>Weight of the contrastive loss (OpenVision: 1).</summary>
    public double Contrastive { get; init; } = 1.0;

    /// <summary>Weight of the caption loss (OpenVision: 2).</summary>
    public double Caption { get; init; } = 2.0;

    /// <summary>OpenVision's weights: 1 · contrastive + 2 · caption.</summary>
    public static LossWeights OpenVision { get; } = new();
}
