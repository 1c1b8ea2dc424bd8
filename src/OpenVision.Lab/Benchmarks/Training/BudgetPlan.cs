using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>Training speed measured at one resolution and batch size.</summary>
/// <param name="ImageSize">Resolution in pixels.</param>
/// <param name="BatchSize">Samples per step.</param>
/// <param name="SamplesPerSecond">Training samples per second of training time.</param>
public sealed record CalibratedRate(int ImageSize, int BatchSize, double SamplesPerSecond);

/// <summary>Turns a progressive schedule and measured speeds into two runs that each last a time budget. Sample counts
/// are planned up front from the calibration (not cut off at the clock), so each stage's warmup + cosine ends where its
/// planned time ends; rounding to whole batches makes a plan at most one step per stage shorter than the budget.</summary>
public static class BudgetPlan
{
    /// <summary>The fixed-resolution run: one stage at the schedule's final resolution and batch size for the whole
    /// budget, with the first stage's peak learning rate and warmup fraction (it trains from scratch, as stage 1
    /// does; the later stages' lower rates are fine-tuning rates).</summary>
    public static TrainConfig Fixed(TrainConfig schedule, TimeSpan budget, IReadOnlyList<CalibratedRate> rates)
    {
        Check(schedule, budget);
        var first = schedule.Stages[0];
        var last = schedule.Stages[^1];
        long samples = WholeBatches(budget.TotalSeconds * Rate(rates, last.ImageSize, last.BatchSize), last.BatchSize);
        double warmupFraction = first.Samples > 0 ? (double)first.WarmupSamples / first.Samples : 0;
        return schedule with
        {
            Stages =
            [
                new TrainStage
                {
                    ImageSize = last.ImageSize, BatchSize = last.BatchSize, Samples = samples, PeakLr = first.PeakLr,
                    WarmupSamples = Warmup(samples * warmupFraction, samples),
                },
            ],
        };
    }

    /// <summary>The progressive run: every stage of <paramref name="schedule"/> with its samples and warmup multiplied by
    /// one factor, chosen so that the planned time Σ samples / rate equals the budget (the schedule's shape, i.e. how
    /// its samples divide between resolutions, is kept).</summary>
    public static TrainConfig Progressive(TrainConfig schedule, TimeSpan budget, IReadOnlyList<CalibratedRate> rates)
    {
        Check(schedule, budget);
        double plannedSeconds = schedule.Stages.Sum(s => s.Samples / Rate(rates, s.ImageSize, s.BatchSize));
        double scale = budget.TotalSeconds / plannedSeconds;
        return schedule with
        {
            Stages = schedule.Stages.Select(s =>
            {
                long samples = WholeBatches(s.Samples * scale, s.BatchSize);
                return s with { Samples = samples, WarmupSamples = Warmup(s.WarmupSamples * scale, samples) };
            }).ToList(),
        };
    }

    /// <summary>Planned training seconds of each stage of <paramref name="config"/> at the calibrated rates.</summary>
    public static IReadOnlyList<double> PlannedSeconds(TrainConfig config, IReadOnlyList<CalibratedRate> rates) =>
        config.Stages.Select(s => s.Samples / Rate(rates, s.ImageSize, s.BatchSize)).ToList();

    /// <summary>The calibrated rate for a resolution and batch size.</summary>
    public static double Rate(IReadOnlyList<CalibratedRate> rates, int imageSize, int batchSize) =>
        rates.FirstOrDefault(r => r.ImageSize == imageSize && r.BatchSize == batchSize)?.SamplesPerSecond
        ?? throw new ArgumentException($"no calibrated speed for {imageSize} px at batch {batchSize}");

    private static void Check(TrainConfig schedule, TimeSpan budget)
    {
        if (schedule.Stages.Count == 0) throw new ArgumentException("the schedule has no stages");
        if (budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(budget), budget, "the budget must be positive");
    }

    // At least one step, so a tiny budget still gives a valid (if short) stage.
    private static long WholeBatches(double samples, int batchSize) => Math.Max(1, (long)Math.Floor(samples / batchSize)) * batchSize;

    // As the demo does: warmup at most a quarter of the stage, so short stages stay valid.
    private static long Warmup(double samples, long stageSamples) => Math.Min((long)Math.Round(samples), stageSamples / 4);
}
