using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>What the charts' plot areas share: the pens of grid and axes, the ink of labels, and a y axis's ticks.</summary>
internal static class ChartAxis
{
    /// <summary>Length of a tick mark outside the plot, in pixels.</summary>
    public const float Tick = 5;

    /// <summary>Labels and axis titles: near-black.</summary>
    public static SKColor Ink { get; } = new(40, 40, 40);

    /// <summary>Light grey one-pixel lines behind the data.</summary>
    public static SKPaint GridPen() => new() { Color = new SKColor(225, 225, 225), StrokeWidth = 1, IsAntialias = false, Style = SKPaintStyle.Stroke };

    /// <summary>Black one-pixel lines of the axes and ticks.</summary>
    public static SKPaint AxisPen() => new() { Color = SKColors.Black, StrokeWidth = 1, IsAntialias = false, Style = SKPaintStyle.Stroke };

    /// <summary>At each of <paramref name="ticks"/> a grid line across <paramref name="plot"/> (<paramref name="grid"/>), a
    /// tick mark left of it (<paramref name="axis"/>) and its one of <paramref name="labels"/>, right-aligned, in
    /// <paramref name="text"/> on <paramref name="canvas"/>; <paramref name="y"/> gives a value's pixel row.</summary>
    public static void DrawYTicks(SKCanvas canvas, SKRect plot, IReadOnlyList<double> ticks, IReadOnlyList<string> labels, Func<double, float> y,
        PlotText text, SKPaint grid, SKPaint axis)
    {
        for (int i = 0; i < ticks.Count; i++)
        {
            float at = MathF.Round(y(ticks[i])) + 0.5f;
            canvas.DrawLine(plot.Left, at, plot.Right, at, grid);
            canvas.DrawLine(plot.Left - Tick, at, plot.Left, at, axis);
            text.Draw(canvas, labels[i], plot.Left - Tick - 4, at - text.Height / 2, Ink, TextAnchor.Right);
        }
    }
}
