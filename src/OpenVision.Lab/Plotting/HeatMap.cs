using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>Settings of a <see cref="HeatMap"/>.</summary>
public sealed record HeatMapOptions
{
    /// <summary>Title above the map.</summary>
    public string? Title { get; init; }

    /// <summary>Label under the column labels.</summary>
    public string? XLabel { get; init; }

    /// <summary>Label left of the row labels.</summary>
    public string? YLabel { get; init; }

    /// <summary>Value mapped to the first colour; null uses the data minimum.</summary>
    public double? Min { get; init; }

    /// <summary>Value mapped to the last colour; null uses the data maximum.</summary>
    public double? Max { get; init; }

    /// <summary>Text drawn in each cell (e.g. counts), where it fits; null draws none.</summary>
    public string[,]? Annotations { get; init; }

    /// <summary>Cell side in pixels; null picks one from the matrix size (8 to 48).</summary>
    public int? CellSize { get; init; }

    /// <summary>Caption of the colour bar.</summary>
    public string? ColorBarLabel { get; init; }

    /// <summary>Draw text with the built-in bitmap font even where a system typeface exists.</summary>
    public bool ForceBitmapFont { get; init; }
}

/// <summary>A PNG heat map of a matrix with row and column labels, a viridis colour scale and a colour bar.</summary>
public static class HeatMap
{
    private const float Pad = 12, LabelGap = 6, MaxLabelWidth = 220, BarWidth = 18;

    /// <summary>Renders <paramref name="values"/> (rows top to bottom, columns left to right); NaN cells are grey.</summary>
    public static byte[] RenderPng(double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, HeatMapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        options ??= new HeatMapOptions();
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rows == 0 || columns == 0) throw new ArgumentException("the matrix is empty");
        if (rowLabels.Count != rows || columnLabels.Count != columns) throw new ArgumentException($"{rows}×{columns} matrix but {rowLabels.Count} row and {columnLabels.Count} column labels");
        var finite = values.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double min = options.Min ?? finite.Min(), max = options.Max ?? finite.Max();
        if (max <= min) max = min + 1;

        int cell = options.CellSize ?? Math.Clamp(720 / Math.Max(rows, columns), 8, 48);
        using var labelText = new PlotText(cell >= 16 ? 16 : 8, options.ForceBitmapFont);
        using var titleText = new PlotText(24, options.ForceBitmapFont);
        using var axisText = new PlotText(16, options.ForceBitmapFont);
        using var cellText = new PlotText(cell >= 32 ? 16 : 8, options.ForceBitmapFont);
        var rowNames = rowLabels.Select(l => labelText.Fit(l, MaxLabelWidth)).ToList();
        var columnNames = columnLabels.Select(l => labelText.Fit(l, MaxLabelWidth)).ToList();
        float rowLabelWidth = rowNames.Max(labelText.Measure), columnLabelHeight = columnNames.Max(labelText.Measure);
        string minText = AxisTicks.Format(min, max - min), maxText = AxisTicks.Format(max, max - min);
        float barTextWidth = Math.Max(labelText.Measure(minText), labelText.Measure(maxText));

        float left = Pad + (options.YLabel is null ? 0 : axisText.Height + Pad) + rowLabelWidth + LabelGap;
        float top = Pad + (options.Title is null ? 0 : titleText.Height + Pad);
        float gridWidth = columns * cell, gridHeight = rows * cell;
        float barLeft = left + gridWidth + 2 * Pad;
        int width = (int)Math.Ceiling(barLeft + BarWidth + LabelGap + barTextWidth + (options.ColorBarLabel is null ? 0 : axisText.Height + LabelGap) + Pad);
        int height = (int)Math.Ceiling(top + gridHeight + LabelGap + columnLabelHeight + (options.XLabel is null ? 0 : Pad + axisText.Height) + Pad);
        if (options.Title is not null) width = Math.Max(width, (int)(titleText.Measure(options.Title) + 2 * Pad));

        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        var ink = new SKColor(40, 40, 40);
        using var fill = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = false };
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
            {
                double t = double.IsFinite(values[r, c]) ? (values[r, c] - min) / (max - min) : double.NaN;
                fill.Color = Colormap.ViridisAt(t);
                var rect = new SKRect(left + c * cell, top + r * cell, left + (c + 1) * cell, top + (r + 1) * cell);
                canvas.DrawRect(rect, fill);
                string? note = options.Annotations?[r, c];
                if (!string.IsNullOrEmpty(note) && cellText.Measure(note) <= cell - 2 && cellText.Height + 6 <= cell)
                    cellText.Draw(canvas, note, rect.MidX, rect.MidY - cellText.Height / 2, Colormap.TextOn(fill.Color), TextAnchor.Center);
            }
        using var frame = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(new SKRect(left - 0.5f, top - 0.5f, left + gridWidth + 0.5f, top + gridHeight + 0.5f), frame);

        for (int r = 0; r < rows; r++)
            labelText.Draw(canvas, rowNames[r], left - LabelGap, top + r * cell + (cell - labelText.Height) / 2, ink, TextAnchor.Right);
        for (int c = 0; c < columns; c++)
            labelText.DrawVertical(canvas, columnNames[c], left + c * cell + cell / 2f, top + gridHeight + LabelGap, ink, TextAnchor.Right);

        // Colour bar: min at the bottom, max at the top.
        for (int y = 0; y < (int)gridHeight; y++)
        {
            fill.Color = Colormap.ViridisAt(1 - y / Math.Max(1.0, gridHeight - 1));
            canvas.DrawRect(barLeft, top + y, BarWidth, 1, fill);
        }
        canvas.DrawRect(new SKRect(barLeft - 0.5f, top - 0.5f, barLeft + BarWidth + 0.5f, top + gridHeight + 0.5f), frame);
        labelText.Draw(canvas, maxText, barLeft + BarWidth + LabelGap, top, ink);
        labelText.Draw(canvas, minText, barLeft + BarWidth + LabelGap, top + gridHeight - labelText.Height, ink);
        if (options.ColorBarLabel is not null)
        {
            // Along the bar, never longer than it (small matrices would push it into the title).
            var barText = axisText.Measure(options.ColorBarLabel) <= gridHeight ? axisText : labelText;
            barText.DrawVertical(canvas, barText.Fit(options.ColorBarLabel, gridHeight), barLeft + BarWidth + 2 * LabelGap + barTextWidth + axisText.Height / 2,
                top + gridHeight / 2, ink, TextAnchor.Center);
        }

        if (options.Title is not null) titleText.Draw(canvas, options.Title, width / 2f, Pad, SKColors.Black, TextAnchor.Center);
        if (options.XLabel is not null) axisText.Draw(canvas, options.XLabel, left + gridWidth / 2, height - Pad - axisText.Height, ink, TextAnchor.Center);
        if (options.YLabel is not null) axisText.DrawVertical(canvas, options.YLabel, Pad + axisText.Height / 2, top + gridHeight / 2, ink, TextAnchor.Center);
        return PngImage.Encode(bitmap);
    }

    /// <summary>Renders and writes the heat map to <paramref name="path"/>.</summary>
    public static void Save(string path, double[,] values, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, HeatMapOptions? options = null) =>
        PngImage.Save(path, RenderPng(values, rowLabels, columnLabels, options));
}
