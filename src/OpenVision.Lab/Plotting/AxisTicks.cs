using System.Globalization;

namespace OpenVision.Lab.Plotting;

/// <summary>Tick positions and labels for chart axes: "nice" 1-2-5 steps on linear axes, powers of ten on
/// logarithmic ones.</summary>
public static class AxisTicks
{
    /// <summary>At most about <paramref name="maxTicks"/> ticks covering [min, max] at a 1, 2 or 5 × 10ⁿ step.</summary>
    public static (double[] Ticks, double Step) Linear(double min, double max, int maxTicks = 6)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) throw new ArgumentException("axis limits must be finite");
        if (max < min) (min, max) = (max, min);
        if (max == min) { min -= 0.5; max += 0.5; }
        double raw = (max - min) / Math.Max(1, maxTicks - 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw * (1 - 1e-9));
        double first = Math.Ceiling(min / step - 1e-9) * step;
        var ticks = new List<double>();
        for (double t = first; t <= max + step * 1e-9; t += step) ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        return (ticks.ToArray(), step);
    }

    /// <summary>Powers of ten within [min, max] (both positive); with fewer than three decades also 2× and 5×.</summary>
    public static double[] Log(double min, double max)
    {
        if (!(min > 0) || !(max > 0)) throw new ArgumentException("a logarithmic axis needs positive limits");
        if (max < min) (min, max) = (max, min);
        int low = (int)Math.Floor(Math.Log10(min) + 1e-9), high = (int)Math.Ceiling(Math.Log10(max) - 1e-9);
        int stride = Math.Max(1, (high - low) / 8);    // no more than ~8 labelled decades
        double[] mantissas = high - low < 3 ? [1, 2, 5] : [1];
        var ticks = new List<double>();
        for (int e = low; e <= high; e += stride)
            foreach (double m in mantissas)
            {
                double t = m * Math.Pow(10, e);
                if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.Add(t);
            }
        return ticks.ToArray();
    }

    /// <summary>A compact label: as many decimals as the step needs, or exponent form for very large values and
    /// for steps below 10⁻³ (so a whole axis uses one form).</summary>
    public static string Format(double value, double step)
    {
        if (value == 0) return "0";
        if (Math.Abs(value) >= 1e5 || Math.Abs(step) < 1e-3 || Math.Abs(value) < 1e-3) return value.ToString("0.##e+0", CultureInfo.InvariantCulture);
        int decimals = step >= 1 ? 0 : Math.Min(6, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }
}
