using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Training;

namespace OpenVision.Lab.Tests.Benchmarks;

public class BudgetPlanTests
{
    // 800 samples at 16 px (100 samples/s, 8 s) then 200 at 24 px (40 samples/s, 5 s): 13 s as written.
    private static readonly TrainConfig Schedule = new()
    {
        Stages =
        [
            new TrainStage { ImageSize = 16, BatchSize = 10, Samples = 800, PeakLr = 3e-3, WarmupSamples = 40 },
            new TrainStage { ImageSize = 24, BatchSize = 10, Samples = 200, PeakLr = 3e-4, WarmupSamples = 20 },
        ],
    };

    private static readonly CalibratedRate[] Rates = [new(16, 10, 100), new(24, 10, 40)];

    [Fact]
    public void TheProgressiveScheduleIsScaledToTheBudget()
    {
        var doubled = BudgetPlan.Progressive(Schedule, TimeSpan.FromSeconds(26), Rates);
        Assert.Equal([(16, 1600L, 80L, 3e-3), (24, 400L, 40L, 3e-4)], doubled.Stages.Select(s => (s.ImageSize, s.Samples, s.WarmupSamples, s.PeakLr)));
        Assert.Equal([16.0, 10.0], BudgetPlan.PlannedSeconds(doubled, Rates));

        // 10 / 13 of 800 and 200 is 615.4 and 153.8: whole batches, never over the budget.
        var shorter = BudgetPlan.Progressive(Schedule, TimeSpan.FromSeconds(10), Rates);
        Assert.Equal([610L, 150L], shorter.Stages.Select(s => s.Samples));
        Assert.Equal(6.1 + 3.75, BudgetPlan.PlannedSeconds(shorter, Rates).Sum(), 1e-9);
    }

    [Fact]
    public void TheFixedRunIsOneStageAtTheFinalResolutionWithTheFirstStagesLrAndWarmupFraction()
    {
        var plan = BudgetPlan.Fixed(Schedule, TimeSpan.FromSeconds(26), Rates);
        var stage = Assert.Single(plan.Stages);
        // 26 s × 40 samples/s = 1,040 samples; warmup 40 / 800 = 5 % of them.
        Assert.Equal((24, 10, 1040L, 52L, 3e-3), (stage.ImageSize, stage.BatchSize, stage.Samples, stage.WarmupSamples, stage.PeakLr));
        plan.Validate();
    }

    [Fact]
    public void TinyBudgetsStillGiveValidOneStepStages()
    {
        var progressive = BudgetPlan.Progressive(Schedule, TimeSpan.FromSeconds(0.01), Rates).Validate();
        Assert.All(progressive.Stages, s => Assert.Equal((10L, 0L), (s.Samples, s.WarmupSamples)));
        Assert.Equal(10, BudgetPlan.Fixed(Schedule, TimeSpan.FromSeconds(0.01), Rates).Validate().Stages[0].Samples);
        var e = Assert.Throws<ArgumentException>(() => BudgetPlan.Fixed(Schedule, TimeSpan.FromSeconds(1), [new(16, 10, 100)]));
        Assert.Contains("24 px at batch 10", e.Message);
    }
}
