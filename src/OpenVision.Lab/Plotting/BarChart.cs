using System.Globalization;
using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>One series of bars in a <see cref="BarPanel"/>: a value per group.</summary>
/// <param name="Name">Legend text; series of the same name share a colour across panels.</param>
/// <param name="Values">One value per group of the panel; NaN (or a negative value) draws no bar there.</param>
public sealed record BarSeries(string Name, IReadOnlyList<double> Values);

/// <summary>One panel of a <see cref="BarChart"/>: its own y axis from zero and groups of bars side by side.</summary>
/// <param name="Title">Above the panel.</param>
/// <param name="Groups">Labels under the groups (e.g. batch sizes).</param>
/// <param name="Series">The bars of each group, in this order.</param>
public sealed record BarPanel(string Title, IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series);

/// <summary>A PNG of grouped bar charts, one panel per item side by side, each with its own y scale (models whose
/// rates differ fifty-fold stay readable), one legend for all, and each bar's value written above it.</summary>
public sealed class BarChart
{
    private readonly List<BarPanel> panels = [];

    /// <summary>Title above the panels.</summary>
    public string? Title { get; init; }

    /// <summary>A second line under the title (e.g. the machine and the command).</summary>
    public string? Subtitle { get; init; }

    /// <summary>Y axis label of every panel.</summary>
    public string? YLabel { get; init; }

    /// <summary>Label under each panel's groups.</summary>
    public string? GroupLabel { get; init; }

    /// <summary>Width of one panel in pixels.</summary>
    public int PanelWidth { get; init; } = 440;

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; } = 520;

    /// <summary>Draw text with the built-in bitmap font even where a system typeface exists (identical output everywhere).</summary>
    public bool ForceBitmapFont { get; init; }

    /// <summary>The panels added so far.</summary>
    public IReadOnlyList<BarPanel> Panels => panels;

    /// <summary>Adds a panel; returns the chart for chaining.</summary>
    public BarChart Add(BarPanel panel)
    {
        ArgumentNullException.ThrowIfNull(panel);
        foreach (var series in panel.Series)
            if (series.Values.Count != panel.Groups.Count)
                throw new ArgumentException($"panel '{panel.Title}', series '{series.Name}': {series.Values.Count} values for {panel.Groups.Count} groups");
        panels.Add(panel);
        return this;
    }

    /// <summary>The series names in legend order (first appearance), which also fixes each name's colour.</summary>
    public IReadOnlyList<string> SeriesNames => panels.SelectMany(p => p.Series).Select(s => s.Name).Distinct().ToList();

    /// <summary>The colour of the series named <paramref name="name"/> ("#rrggbb", from the categorical palette).</summary>
    public string ColorOf(string name) =>
        Colors().TryGetValue(name, out var color) ? color : throw new ArgumentException($"no series '{name}'");

    private Dictionary<string, string> Colors() =>
        SeriesNames.Select((name, i) => (name, i)).ToDictionary(n => n.name, n => Colormap.Categorical[n.i % Colormap.Categorical.Count]);

    /// <summary>Writes the chart as a PNG file.</summary>
    public void Save(string path) => PngImage.Save(path, RenderPng());

    /// <summary>The chart as PNG bytes.</summary>
    public byte[] RenderPng()
    {
        if (PanelWidth < 200 || Height < 200) throw new ArgumentOutOfRangeException(nameof(PanelWidth), "a bar chart needs panels of at least 200 × 200 pixels");
        int width = PanelWidth * Math.Max(1, panels.Count);
        using var bitmap = new SKBitmap(width, Height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var titleText = new PlotText(22, ForceBitmapFont);
        using var labelText = new PlotText(15, ForceBitmapFont);
        using var valueText = new PlotText(13, ForceBitmapFont);

        const float pad = 12;
        float top = pad;
        if (Title is not null)
        {
            titleText.Draw(canvas, titleText.Fit(Title, width - 2 * pad), width / 2f, top, SKColors.Black, TextAnchor.Center);
            top += titleText.Height + 4;
        }
        if (Subtitle is not null)
        {
            labelText.Draw(canvas, labelText.Fit(Subtitle, width - 2 * pad), width / 2f, top, ChartAxis.Ink, TextAnchor.Center);
            top += labelText.Height + 4;
        }
        var colors = Colors().ToDictionary(c => c.Key, c => SKColor.Parse(c.Value));
        top = DrawLegend(canvas, labelText, colors, width, top + 4) + pad;
        for (int p = 0; p < panels.Count; p++)
            DrawPanel(canvas, panels[p], new SKRect(p * PanelWidth, top, (p + 1) * PanelWidth, Height), labelText, valueText, colors);
        return PngImage.Encode(bitmap);
    }

    private void DrawPanel(SKCanvas canvas, BarPanel panel, SKRect area, PlotText labelText, PlotText valueText, Dictionary<string, SKColor> colors)
    {
        var ink = ChartAxis.Ink;
        const float pad = 12, tick = ChartAxis.Tick;
        var values = panel.Series.SelectMany(s => s.Values).Where(Drawn).ToList();
        var labels = values.Select(Format).ToList();
        float plotTop = area.Top + labelText.Height + 6;
        float plotBottom = area.Bottom - pad - (GroupLabel is null ? 0 : labelText.Height + 4) - labelText.Height - tick - 4;
        // Room above the tallest bar for its value, written upwards.
        float labelRoom = labels.Select(valueText.Measure).DefaultIfEmpty(0).Max() + 8;
        double max = values.DefaultIfEmpty(1).Max();
        double axisMax = (max > 0 ? max : 1) * (plotBottom - plotTop) / Math.Max(1, plotBottom - plotTop - labelRoom);
        var (ticks, step) = AxisTicks.Linear(0, axisMax, 6);
        var tickLabels = ticks.Select(t => AxisTicks.Format(t, step)).ToList();
        float plotLeft = area.Left + pad + (YLabel is null ? 0 : labelText.Height + 6) + tickLabels.Select(labelText.Measure).DefaultIfEmpty(0).Max() + tick + 4;
        var plot = new SKRect(plotLeft, plotTop, area.Right - pad, plotBottom);
        float Y(double v) => plot.Bottom - (float)(v / axisMax) * plot.Height;

        labelText.Draw(canvas, labelText.Fit(panel.Title, area.Width - 2 * pad), plot.MidX, area.Top, SKColors.Black, TextAnchor.Center);
        using var grid = ChartAxis.GridPen();
        using var axis = ChartAxis.AxisPen();
        ChartAxis.DrawYTicks(canvas, plot, ticks, tickLabels, Y, labelText, grid, axis);

        int groups = Math.Max(1, panel.Groups.Count), bars = Math.Max(1, panel.Series.Count);
        float groupWidth = plot.Width / groups, barWidth = MathF.Floor(groupWidth * 0.8f / bars);
        for (int g = 0; g < panel.Groups.Count; g++)
        {
            float groupLeft = plot.Left + g * groupWidth + (groupWidth - barWidth * bars) / 2;
            for (int s = 0; s < panel.Series.Count; s++)
            {
                double value = panel.Series[s].Values[g];
                if (!Drawn(value)) continue;
                // Whole pixels, no antialiasing: each bar is one solid colour from its top to the axis.
                var bar = new SKRect(MathF.Round(groupLeft + s * barWidth), MathF.Round(Y(value)), MathF.Round(groupLeft + (s + 1) * barWidth) - 1, MathF.Round(plot.Bottom));
                using var fill = new SKPaint { Color = colors[panel.Series[s].Name], Style = SKPaintStyle.Fill, IsAntialias = false };
                canvas.DrawRect(bar, fill);
                valueText.DrawVertical(canvas, Format(value), bar.MidX, bar.Top - 4, ink);
            }
            labelText.Draw(canvas, labelText.Fit(panel.Groups[g], groupWidth), plot.Left + (g + 0.5f) * groupWidth, plot.Bottom + tick + 4, ink, TextAnchor.Center);
        }
        canvas.DrawLine(plot.Left + 0.5f, plot.Top, plot.Left + 0.5f, plot.Bottom + 0.5f, axis);
        canvas.DrawLine(plot.Left, plot.Bottom + 0.5f, plot.Right, plot.Bottom + 0.5f, axis);
        if (GroupLabel is not null) labelText.Draw(canvas, GroupLabel, plot.MidX, area.Bottom - pad - labelText.Height, ink, TextAnchor.Center);
        if (YLabel is not null) labelText.DrawVertical(canvas, YLabel, area.Left + pad + labelText.Height / 2, plot.MidY, ink, TextAnchor.Center);
    }

    // One row of swatches and names, wrapped to the width; returns the bottom of the last row.
    private float DrawLegend(SKCanvas canvas, PlotText text, Dictionary<string, SKColor> colors, int width, float top)
    {
        const float swatch = 14, gap = 8, between = 24;
        var names = SeriesNames;
        var rows = new List<List<string>> { new() };
        float rowWidth = 0;
        foreach (string name in names)
        {
            float item = swatch + gap + text.Measure(name);
            if (rows[^1].Count > 0 && rowWidth + between + item > width - 24) { rows.Add([]); rowWidth = 0; }
            rowWidth += (rows[^1].Count > 0 ? between : 0) + item;
            rows[^1].Add(name);
        }
        foreach (var row in rows.Where(r => r.Count > 0))
        {
            float total = row.Sum(n => swatch + gap + text.Measure(n)) + between * (row.Count - 1);
            float x = (width - total) / 2;
            foreach (string name in row)
            {
                using var fill = new SKPaint { Color = colors[name], Style = SKPaintStyle.Fill, IsAntialias = false };
                float middle = top + text.Height / 2;
                canvas.DrawRect(new SKRect(x, middle - swatch / 2, x + swatch, middle + swatch / 2), fill);
                text.Draw(canvas, name, x + swatch + gap, top, SKColors.Black);
                x += swatch + gap + text.Measure(name) + between;
            }
            top += text.Height + 6;
        }
        return top;
    }

    private static bool Drawn(double value) => double.IsFinite(value) && value >= 0;

    /// <summary>Three significant digits, no exponent (185, 98.7, 9.14, 0.912).</summary>
    internal static string Format(double value) => value switch
    {
        >= 100 => value.ToString("F0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("F1", CultureInfo.InvariantCulture),
        >= 1 => value.ToString("F2", CultureInfo.InvariantCulture),
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };
}
