using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>How much sooner the progressive run reaches the fixed run's final accuracy.</summary>
/// <param name="TargetTop1">The fixed run's final accuracy.</param>
/// <param name="FixedSeconds">Training time at which the fixed run first reached it (interpolated).</param>
/// <param name="ProgressiveSeconds">Training time at which the progressive run first reached it; null if it never did.</param>
/// <param name="Factor"><see cref="FixedSeconds"/> / <see cref="ProgressiveSeconds"/>; null if not reached.</param>
public sealed record SpeedUpResult(double TargetTop1, double FixedSeconds, double? ProgressiveSeconds, double? Factor)
{
    /// <summary>"2.40×" or "not reached".</summary>
    public string Describe() => Factor is { } f ? f.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "×" : "not reached";

    /// <summary>Compares two accuracy-vs-time curves (times ascending): the target is the fixed curve's last accuracy.</summary>
    public static SpeedUpResult Compute(IReadOnlyList<(double Seconds, double Top1)> fixedCurve, IReadOnlyList<(double Seconds, double Top1)> progressiveCurve)
    {
        if (fixedCurve.Count == 0) throw new ArgumentException("the fixed run has no accuracy points", nameof(fixedCurve));
        double target = fixedCurve[^1].Top1;
        double fixedSeconds = TimeToReach(fixedCurve, target) ?? throw new InvalidOperationException("a curve always reaches its own last value");
        double? progressiveSeconds = TimeToReach(progressiveCurve, target);
        // A progressive time of 0 (already there at the start) would make the ratio infinite; only possible when the
        // fixed run learnt nothing, and then infinity is the honest answer.
        double? factor = progressiveSeconds is { } p ? (p > 0 ? fixedSeconds / p : double.PositiveInfinity) : null;
        return new SpeedUpResult(target, fixedSeconds, progressiveSeconds, factor);
    }

    /// <summary>The first time a curve reaches <paramref name="target"/>: the time of the first point at or above it,
    /// or, when the previous point is below, the linear interpolation between the two; null if no point reaches it.</summary>
    public static double? TimeToReach(IReadOnlyList<(double Seconds, double Top1)> curve, double target)
    {
        for (int i = 1; i < curve.Count; i++)
            if (curve[i].Seconds < curve[i - 1].Seconds) throw new ArgumentException($"curve times must not decrease (point {i}: {curve[i].Seconds} s after {curve[i - 1].Seconds} s)");
        for (int i = 0; i < curve.Count; i++)
        {
            if (curve[i].Top1 < target) continue;
            if (i == 0) return curve[0].Seconds;
            var (t0, a0) = curve[i - 1];
            var (t1, a1) = curve[i];
            return t0 + (target - a0) / (a1 - a0) * (t1 - t0);
        }
        return null;
    }
}
