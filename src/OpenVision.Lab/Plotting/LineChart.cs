using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>One line of a <see cref="LineChart"/>.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values; NaN, infinities (and, on a log axis, values ≤ 0) break the line.</param>
/// <param name="Color">"#rrggbb"; null takes the next palette colour.</param>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, string? Color = null);

/// <summary>A PNG line chart: several series, x and y axes with tick labels and grid, optional log y axis, legend
/// and title. Used for training curves (loss, learning rate, temperature) and evaluation curves.</summary>
public sealed class LineChart
{
    private readonly List<ChartSeries> series = [];

    /// <summary>Title above the plot.</summary>
    public string? Title { get; init; }

    /// <summary>X axis label.</summary>
    public string? XLabel { get; init; }

    /// <summary>Y axis label.</summary>
    public string? YLabel { get; init; }

    /// <summary>Logarithmic y axis (losses, learning rates).</summary>
    public bool LogY { get; init; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; } = 900;

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; } = 540;

    /// <summary>Draw text with the built-in bitmap font even where a system typeface exists (identical output everywhere).</summary>
    public bool ForceBitmapFont { get; init; }

    /// <summary>The series added so far.</summary>
    public IReadOnlyList<ChartSeries> Series => series;

    /// <summary>Adds a series; returns the chart for chaining.</summary>
    public LineChart Add(ChartSeries line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.X.Count != line.Y.Count) throw new ArgumentException($"series '{line.Name}': {line.X.Count} x values but {line.Y.Count} y values");
        series.Add(line);
        return this;
    }

    /// <summary>Adds a series of <paramref name="y"/> against <paramref name="x"/>.</summary>
    public LineChart Add(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, string? color = null) => Add(new ChartSeries(name, x, y, color));

    /// <summary>Adds a series of <paramref name="y"/> against 0, 1, 2, ….</summary>
    public LineChart Add(string name, IReadOnlyList<double> y, string? color = null) =>
        Add(new ChartSeries(name, Enumerable.Range(0, y.Count).Select(i => (double)i).ToList(), y, color));

    /// <summary>Writes the chart as a PNG file.</summary>
    public void Save(string path) => PngImage.Save(path, RenderPng());

    /// <summary>The chart as PNG bytes.</summary>
    public byte[] RenderPng()
    {
        if (Width < 200 || Height < 150) throw new ArgumentOutOfRangeException(nameof(Width), "a chart needs at least 200 × 150 pixels");
        using var bitmap = new SKBitmap(Width, Height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var titleText = new PlotText(24, ForceBitmapFont);
        using var labelText = new PlotText(16, ForceBitmapFont);
        using var tickText = new PlotText(16, ForceBitmapFont);

        var points = series.SelectMany(s => s.X.Zip(s.Y)).Where(p => Usable(p.First, p.Second)).ToList();
        var (xMin, xMax) = points.Count > 0 ? (points.Min(p => p.First), points.Max(p => p.First)) : (0.0, 1.0);
        var (yMin, yMax) = points.Count > 0 ? (points.Min(p => p.Second), points.Max(p => p.Second)) : (LogY ? 0.1 : 0.0, 1.0);
        if (xMax == xMin) { xMin -= 0.5; xMax += 0.5; }
        (yMin, yMax) = PadY(yMin, yMax);
        var (xTicks, xStep) = AxisTicks.Linear(xMin, xMax, 8);
        var (yTicks, yStep) = LogY ? (AxisTicks.Log(yMin, yMax), 0.0) : AxisTicks.Linear(yMin, yMax, 7);
        var yLabels = yTicks.Select(t => AxisTicks.Format(t, LogY ? t : yStep)).ToList();

        const float pad = 12, tick = ChartAxis.Tick;
        float left = pad + (YLabel is null ? 0 : labelText.Height + pad) + yLabels.Select(tickText.Measure).DefaultIfEmpty(0).Max() + tick + 6;
        float top = pad + (Title is null ? 0 : titleText.Height + pad);
        float bottom = Height - pad - (XLabel is null ? 0 : labelText.Height + pad) - tickText.Height - tick - 6;
        float right = Width - pad - tickText.Measure(AxisTicks.Format(xTicks.LastOrDefault(), xStep)) / 2;
        var plot = new SKRect(left, top, right, bottom);
        float X(double x) => plot.Left + (float)((x - xMin) / (xMax - xMin)) * plot.Width;
        float Y(double y) => LogY
            ? plot.Bottom - (float)((Math.Log10(y) - Math.Log10(yMin)) / (Math.Log10(yMax) - Math.Log10(yMin))) * plot.Height
            : plot.Bottom - (float)((y - yMin) / (yMax - yMin)) * plot.Height;

        using var grid = ChartAxis.GridPen();
        using var axis = ChartAxis.AxisPen();
        var ink = ChartAxis.Ink;
        foreach (double t in xTicks)
        {
            float x = MathF.Round(X(t)) + 0.5f;
            canvas.DrawLine(x, plot.Top, x, plot.Bottom, grid);
            canvas.DrawLine(x, plot.Bottom, x, plot.Bottom + tick, axis);
            tickText.Draw(canvas, AxisTicks.Format(t, xStep), x, plot.Bottom + tick + 4, ink, TextAnchor.Center);
        }
        ChartAxis.DrawYTicks(canvas, plot, yTicks, yLabels, Y, tickText, grid, axis);
        canvas.DrawRect(plot, axis);

        canvas.Save();
        canvas.ClipRect(plot);
        for (int s = 0; s < series.Count; s++)
        {
            using var paint = new SKPaint { Color = ColorOf(s), StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round };
            // Runs of usable points are drawn as polylines; a NaN (or ≤ 0 on a log axis) breaks the line.
            var run = new List<SKPoint>();
            int visible = 0;
            for (int i = 0; i <= series[s].X.Count; i++)
            {
                bool usable = i < series[s].X.Count && Usable(series[s].X[i], series[s].Y[i]);
                if (usable) { run.Add(new SKPoint(X(series[s].X[i]), Y(series[s].Y[i]))); visible++; continue; }
                if (run.Count > 1) canvas.DrawPoints(SKPointMode.Polygon, run.ToArray(), paint);
                run.Clear();
            }
            // Few points: mark them, so single values and short evaluation curves are visible.
            if (visible <= 40)
            {
                paint.Style = SKPaintStyle.Fill;
                for (int i = 0; i < series[s].X.Count; i++)
                    if (Usable(series[s].X[i], series[s].Y[i])) canvas.DrawCircle(X(series[s].X[i]), Y(series[s].Y[i]), 3, paint);
            }
        }
        canvas.Restore();

        if (Title is not null) titleText.Draw(canvas, titleText.Fit(Title, Width - 2 * pad), Width / 2f, pad, SKColors.Black, TextAnchor.Center);
        if (XLabel is not null) labelText.Draw(canvas, XLabel, plot.MidX, Height - pad - labelText.Height, ink, TextAnchor.Center);
        if (YLabel is not null) labelText.DrawVertical(canvas, YLabel, pad + labelText.Height / 2, plot.MidY, ink, TextAnchor.Center);
        DrawLegend(canvas, plot, labelText);
        return PngImage.Encode(bitmap);
    }

    private bool Usable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!LogY || y > 0);

    private (double, double) PadY(double min, double max)
    {
        if (LogY)
        {
            if (max / min < 1.0001) { min /= 2; max *= 2; }
            double margin = Math.Pow(max / min, 0.05);
            return (min / margin, max * margin);
        }
        if (max == min) return (min - 0.5, max + 0.5);
        double padding = (max - min) * 0.05;
        return (min - padding, max + padding);
    }

    private SKColor ColorOf(int index) =>
        SKColor.Parse(series[index].Color ?? Colormap.Categorical[index % Colormap.Categorical.Count]);

    private void DrawLegend(SKCanvas canvas, SKRect plot, PlotText text)
    {
        if (series.Count == 0) return;
        const float swatch = 22, gap = 6, inset = 8;
        float rowHeight = text.Height + 6;
        float width = series.Max(s => text.Measure(s.Name)) + swatch + 3 * gap;
        float height = series.Count * rowHeight + gap;
        var box = new SKRect(plot.Right - inset - width, plot.Top + inset, plot.Right - inset, plot.Top + inset + height);
        using var fill = new SKPaint { Color = new SKColor(255, 255, 255, 230), Style = SKPaintStyle.Fill };
        using var border = new SKPaint { Color = new SKColor(160, 160, 160), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(box, fill);
        canvas.DrawRect(box, border);
        for (int s = 0; s < series.Count; s++)
        {
            float y = box.Top + gap / 2 + s * rowHeight + rowHeight / 2;
            using var line = new SKPaint { Color = ColorOf(s), StrokeWidth = 3, IsAntialias = true, Style = SKPaintStyle.Stroke };
            canvas.DrawLine(box.Left + gap, y, box.Left + gap + swatch, y, line);
            text.Draw(canvas, series[s].Name, box.Left + 2 * gap + swatch, y - text.Height / 2, SKColors.Black);
        }
    }
}
