using OpenVision.Training.Optimization;

namespace OpenVision.Training.Tests.Optimization;

public class LrScheduleTests
{
    // peak 1e-3, 10 warmup steps, 110 total: cosine progress = (step − 10) / 100.
    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(1, 1e-4)]
    [InlineData(5, 5e-4)]
    [InlineData(10, 1e-3)]
    [InlineData(35, 8.5355339059327376e-4)]      // ½(1 + cos(π/4))
    [InlineData(60, 5e-4)]                         // ½(1 + cos(π/2))
    [InlineData(85, 1.4644660940672624e-4)]      // ½(1 + cos(3π/4))
    [InlineData(110, 0.0)]
    [InlineData(1000, 0.0)]
    public void WarmupThenCosine(long step, double lr) =>
        Assert.Equal(lr, LrSchedule.WarmupCosine(1e-3, 10, 110).At(step), 15);

    // No warmup (OpenVision stage 3): the cosine starts at the peak on step 0.
    [Theory]
    [InlineData(0, 2.0)]
    [InlineData(1, 1.7071067811865475)]
    [InlineData(2, 1.0)]
    [InlineData(3, 0.2928932188134524)]
    [InlineData(4, 0.0)]
    public void NoWarmup(long step, double lr) =>
        Assert.Equal(lr, LrSchedule.WarmupCosine(2.0, 0, 4).At(step), 14);

    // OpenVision stage 1 (§5.5): peak 1.024e-3, 1,563 warmup steps, 390,981 steps.
    [Theory]
    [InlineData(782, 1.024e-3 * 782 / 1563)]
    [InlineData(1563, 1.024e-3)]
    [InlineData(196272, 5.12e-4)]                  // midpoint of the cosine: 1563 + 389418 / 2
    [InlineData(390981, 0.0)]
    public void OpenVisionStageOne(long step, double lr) =>
        Assert.Equal(lr, LrSchedule.WarmupCosine(1.024e-3, 1563, 390981).At(step), 15);

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.WarmupCosine(-1, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.WarmupCosine(double.NaN, 0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.WarmupCosine(1, -1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.WarmupCosine(1, 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.WarmupCosine(1, 0, 10).At(-1));
    }
}
