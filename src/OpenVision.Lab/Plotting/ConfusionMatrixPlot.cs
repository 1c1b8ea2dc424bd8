using System.Globalization;

namespace OpenVision.Lab.Plotting;

/// <summary>A confusion matrix as a heat map: rows are true classes, columns predictions, colour the fraction of
/// the row (so every class is readable however many samples it has), counts written in the cells when they fit.</summary>
public static class ConfusionMatrixPlot
{
    /// <summary>More classes than this make unreadable labels; callers skip the plot.</summary>
    public const int MaxClasses = 100;

    /// <summary>The plot as PNG bytes.</summary>
    /// <param name="confusion">Counts [true, predicted].</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="title">Title, e.g. "imagenet zero-shot (top-1 46.9%)".</param>
    /// <param name="forceBitmapFont">Use the built-in font even where a system typeface exists.</param>
    public static byte[] RenderPng(long[,] confusion, IReadOnlyList<string> classNames, string? title = null, bool forceBitmapFont = false)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        int n = confusion.GetLength(0);
        if (n != confusion.GetLength(1) || n != classNames.Count) throw new ArgumentException($"a {n}×{confusion.GetLength(1)} matrix needs square shape and {n} class names");
        if (n > MaxClasses) throw new ArgumentException($"{n} classes: confusion plots are limited to {MaxClasses}");
        var fractions = new double[n, n];
        var counts = new string[n, n];
        for (int r = 0; r < n; r++)
        {
            long total = 0;
            for (int c = 0; c < n; c++) total += confusion[r, c];
            for (int c = 0; c < n; c++)
            {
                fractions[r, c] = total == 0 ? double.NaN : (double)confusion[r, c] / total;
                counts[r, c] = confusion[r, c].ToString(CultureInfo.InvariantCulture);
            }
        }
        return HeatMap.RenderPng(fractions, classNames, classNames, new HeatMapOptions
        {
            Title = title,
            XLabel = "predicted",
            YLabel = "true class",
            Min = 0,
            Max = 1,
            Annotations = counts,
            ColorBarLabel = "row fraction",
            ForceBitmapFont = forceBitmapFont,
        });
    }

    /// <summary>Renders and writes the plot to <paramref name="path"/>.</summary>
    public static void Save(string path, long[,] confusion, IReadOnlyList<string> classNames, string? title = null) =>
        PngImage.Save(path, RenderPng(confusion, classNames, title));
}
