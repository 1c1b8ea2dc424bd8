using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Training;

namespace OpenVision.Lab.Tests.Benchmarks;

public class SpeedUpTests
{
    // Fixed: reaches its final 0.75 only at its last point, 180 s. Progressive: 0.6 at 30 s, 0.8 at 90 s, so 0.75 at
    // 30 + (0.75 − 0.6) / (0.8 − 0.6) × 60 = 75 s. Speed-up 180 / 75 = 2.4.
    [Fact]
    public void InterpolatesTheProgressiveCrossing()
    {
        var result = SpeedUpResult.Compute([(0, 0.1), (60, 0.5), (120, 0.7), (180, 0.75)], [(0, 0.1), (30, 0.6), (90, 0.8), (180, 0.85)]);
        Assert.Equal(0.75, result.TargetTop1);
        Assert.Equal(180, result.FixedSeconds, 1e-9);
        Assert.Equal(75, result.ProgressiveSeconds!.Value, 1e-9);
        Assert.Equal(2.4, result.Factor!.Value, 1e-9);
        Assert.Equal("2.40×", result.Describe());
    }

    // A fixed run that peaked and fell back first reached its final 0.7 between (0, 0.1) and (60, 0.8):
    // 0.6 / 0.7 × 60 = 360 / 7 s. The progressive run hits 0.7 exactly at a point, 40 s: speed-up 9 / 7.
    [Fact]
    public void TheFixedTimeIsItsFirstCrossingOfItsOwnFinalAccuracy()
    {
        var result = SpeedUpResult.Compute([(0, 0.1), (60, 0.8), (120, 0.7)], [(0, 0.1), (20, 0.5), (40, 0.7), (80, 0.9)]);
        Assert.Equal(360.0 / 7, result.FixedSeconds, 1e-9);
        Assert.Equal(40, result.ProgressiveSeconds!.Value, 1e-9);
        Assert.Equal(9.0 / 7, result.Factor!.Value, 1e-9);
    }

    [Fact]
    public void NeverReachingTheTargetIsNotReached()
    {
        var result = SpeedUpResult.Compute([(0, 0.1), (100, 0.6)], [(0, 0.1), (50, 0.4), (100, 0.59)]);
        Assert.Equal(100, result.FixedSeconds, 1e-9);
        Assert.Null(result.ProgressiveSeconds);
        Assert.Null(result.Factor);
        Assert.Equal("not reached", result.Describe());
    }

    [Fact]
    public void TimeToReachHandlesFirstPointsFlatStretchesAndBadCurves()
    {
        Assert.Equal(5.0, SpeedUpTime([(5, 0.5), (10, 0.9)], 0.3));
        Assert.Equal(12.5, SpeedUpTime([(0, 0.2), (10, 0.2), (15, 0.6)], 0.4));   // 10 + 0.2 / 0.4 × 5
        Assert.Null(SpeedUpTime([], 0.1));
        var e = Assert.Throws<ArgumentException>(() => SpeedUpResult.TimeToReach([(0, 0.1), (10, 0.2), (5, 0.3)], 0.3));
        Assert.Contains("point 2", e.Message);
        Assert.Throws<ArgumentException>(() => SpeedUpResult.Compute([], [(0, 0.5)]));
    }

    private static double? SpeedUpTime(IReadOnlyList<(double, double)> curve, double target) => SpeedUpResult.TimeToReach(curve, target);
}
