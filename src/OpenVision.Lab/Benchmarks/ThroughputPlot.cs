using OpenVision.Lab.Plotting;

namespace OpenVision.Lab.Benchmarks;

/// <summary><c>openvision bench --plot</c>: a report's images/s as grouped bars, one panel per model, the batch sizes
/// as groups and one bar per path that ran (the default fp32 path, ONNX Runtime fp32, bf16, int8).</summary>
public static class ThroughputPlot
{
    /// <summary>The paths drawn, in legend order: name, the rows' task and dtype.</summary>
    public static IReadOnlyList<(string Name, string Task, string DType)> Paths { get; } =
    [
        ("TorchSharp fp32 (default)", "encode_image", "Float32"),
        ("ONNX Runtime fp32", "encode_image[onnx]", "Float32"),
        ("TorchSharp bf16", "encode_image", "BFloat16"),
        ("ONNX Runtime int8", "encode_image[onnx-int8]", "Int8"),
    ];

    /// <summary>The chart of <paramref name="report"/>: panels for the models with image rows, in the order they ran;
    /// a path appears in a panel where it has at least one row.</summary>
    public static BarChart Chart(ThroughputReport report, bool forceBitmapFont = false)
    {
        ArgumentNullException.ThrowIfNull(report);
        var chart = new BarChart
        {
            Title = "encode_image: images/s by batch size",
            Subtitle = $"{report.Machine.CpuModel}, {report.Machine.Cores} cores; measured fp32 peak {report.Peak.Float32Gflops:F0} GFLOP/s",
            YLabel = "images/s",
            GroupLabel = "batch size",
            ForceBitmapFont = forceBitmapFont,
        };
        foreach (string model in report.Results.Select(r => r.Model).Distinct())
        {
            var rows = report.Results.Where(r => r.Model == model).ToList();
            var batches = rows.Where(r => Paths.Any(p => p.Task == r.Task && p.DType == r.DType)).Select(r => r.BatchSize).Distinct().Order().ToList();
            if (batches.Count == 0) continue;
            var series = new List<BarSeries>();
            foreach (var (name, task, dtype) in Paths)
            {
                var values = batches.Select(b => BenchmarkSummary.Find(rows, task, dtype, b)?.ItemsPerSecond ?? double.NaN).ToList();
                if (values.Any(double.IsFinite)) series.Add(new BarSeries(name, values));
            }
            chart.Add(new BarPanel(model, batches.Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(), series));
        }
        return chart;
    }
}
