namespace OpenVision.Training.Optimization;

/// <summary>big_vision's warmup + cosine learning-rate schedule (<c>create_learning_rate_schedule</c>,
/// <c>decay_type='cosine'</c>, <c>min_lr</c> unset): lr(step) = peak · ½(1 + cos(π · clip((step − warm) / (total − warm), 0, 1)))
/// · min(1, step / warm), the last factor dropped when warm = 0.</summary>
/// <remarks>The step given to <see cref="At"/> counts updates already applied (optax's schedule count), so the
/// first update uses step 0, which has lr 0 whenever there is a warmup.</remarks>
public sealed class LrSchedule
{
    private LrSchedule(double peakLr, long warmupSteps, long totalSteps)
    {
        PeakLr = peakLr;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
    }

    /// <summary>The learning rate at the end of the warmup.</summary>
    public double PeakLr { get; }

    /// <summary>Steps of linear warmup from 0.</summary>
    public long WarmupSteps { get; }

    /// <summary>Steps until the cosine reaches 0; later steps keep lr 0.</summary>
    public long TotalSteps { get; }

    /// <summary>Linear warmup to <paramref name="peakLr"/> over <paramref name="warmupSteps"/>, then cosine decay to 0 at
    /// <paramref name="totalSteps"/>.</summary>
    public static LrSchedule WarmupCosine(double peakLr, long warmupSteps, long totalSteps)
    {
        if (!(peakLr >= 0) || double.IsInfinity(peakLr)) throw new ArgumentOutOfRangeException(nameof(peakLr), peakLr, "must be finite and non-negative");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "must be non-negative");
        // big_vision asserts warmup < total too; equality would divide by zero in the cosine progress.
        if (totalSteps <= warmupSteps) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, $"must exceed the warmup ({warmupSteps} steps)");
        return new LrSchedule(peakLr, warmupSteps, totalSteps);
    }

    /// <summary>The learning rate for the update that follows <paramref name="step"/> completed updates.</summary>
    public double At(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "must be non-negative");
        double progress = Math.Clamp((double)(step - WarmupSteps) / (TotalSteps - WarmupSteps), 0.0, 1.0);
        double lr = PeakLr * 0.5 * (1.0 + Math.Cos(Math.PI * progress));
        if (WarmupSteps > 0) lr *= Math.Min(1.0, (double)step / WarmupSteps);
        return lr;
    }
}
