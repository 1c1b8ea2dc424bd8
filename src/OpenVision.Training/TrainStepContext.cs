namespace OpenVision.Training;

/// <summary>What a training step's objective may need beyond its batches.</summary>
/// <param name="Step">Global optimizer step, 0-based (the one being computed).</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="KeepRatio">Fraction of patch tokens the caption-only objective's decoder reads this stage.</param>
public sealed record TrainStepContext(long Step, long Seed, double KeepRatio)
{
    /// <summary>Step 0, seed 0, every token: for callers that run one step outside a run.</summary>
    public static TrainStepContext Default { get; } = new(0, 0, 1.0);
}
