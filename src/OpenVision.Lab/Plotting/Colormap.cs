using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>Perceptually ordered colours for heat maps (matplotlib's viridis, five stops, linear in between)
/// and a categorical palette for line series (matplotlib's tab10).</summary>
internal static class Colormap
{
    private static readonly (float At, SKColor Color)[] Viridis =
    [
        (0.00f, new SKColor(68, 1, 84)), (0.25f, new SKColor(59, 82, 139)), (0.50f, new SKColor(33, 145, 140)),
        (0.75f, new SKColor(94, 201, 98)), (1.00f, new SKColor(253, 231, 37)),
    ];

    /// <summary>tab10: distinguishable colours for up to ten series, then repeating.</summary>
    public static IReadOnlyList<string> Categorical { get; } =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>The viridis colour at <paramref name="t"/> in [0, 1] (clamped; NaN is grey).</summary>
    public static SKColor ViridisAt(double t)
    {
        if (double.IsNaN(t)) return new SKColor(200, 200, 200);
        float x = (float)Math.Clamp(t, 0, 1);
        for (int i = 1; i < Viridis.Length; i++)
        {
            if (x > Viridis[i].At) continue;
            var (a, ca) = Viridis[i - 1];
            var (b, cb) = Viridis[i];
            float f = (x - a) / (b - a);
            return new SKColor(Mix(ca.Red, cb.Red, f), Mix(ca.Green, cb.Green, f), Mix(ca.Blue, cb.Blue, f));
        }
        return Viridis[^1].Color;
    }

    /// <summary>Black or white, whichever reads better on <paramref name="background"/>.</summary>
    public static SKColor TextOn(SKColor background) =>
        0.299 * background.Red + 0.587 * background.Green + 0.114 * background.Blue > 140 ? SKColors.Black : SKColors.White;

    private static byte Mix(byte a, byte b, float f) => (byte)Math.Round(a + (b - a) * f);
}
