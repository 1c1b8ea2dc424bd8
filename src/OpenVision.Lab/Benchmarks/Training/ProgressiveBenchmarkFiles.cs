using OpenVision.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpenVision.Lab.Plotting;
using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>Writes a <see cref="ProgressiveBenchmarkReport"/> as <c>progressive.json</c>, <c>progressive.md</c> and
/// <c>progressive-accuracy.png</c> (zero-shot top-1 against training minutes, one line per run).</summary>
public static class ProgressiveBenchmarkFiles
{
    /// <summary>snake_case JSON; an infinite speed-up (the progressive run there at time 0) is written as "Infinity".</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    /// <summary>Writes the three files into <paramref name="folder"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(ProgressiveBenchmarkReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        string json = Path.Combine(folder, "progressive.json"), markdown = Path.Combine(folder, "progressive.md"), plot = Path.Combine(folder, "progressive-accuracy.png");
        AtomicFile.WriteAllText(json, JsonSerializer.Serialize(report, JsonOptions));
        AtomicFile.WriteAllText(markdown, Markdown(report));
        Chart(report).Save(plot);
        return [json, markdown, plot];
    }

    /// <summary>Reads a report written by <see cref="Write"/>.</summary>
    public static ProgressiveBenchmarkReport Read(string jsonPath) =>
        JsonSerializer.Deserialize<ProgressiveBenchmarkReport>(File.ReadAllText(jsonPath), JsonOptions)
        ?? throw new InvalidDataException($"{jsonPath}: empty report");

    /// <summary>Accuracy at the final resolution against training minutes, both runs.</summary>
    public static LineChart Chart(ProgressiveBenchmarkReport report)
    {
        var chart = new LineChart
        {
            Title = $"zero-shot top-1 at {report.FinalImageSize} px vs training time",
            XLabel = "training time (minutes, evaluation excluded)", YLabel = "top-1 (%)",
        };
        foreach (var run in new[] { report.Fixed, report.Progressive })
            // The bitmap font (used where no system typeface exists) has no arrow.
            chart.Add($"{run.Name} ({run.Description.Replace("→", "->", StringComparison.Ordinal)})", run.Curve.Select(p => p.TrainingSeconds / 60).ToList(), run.Curve.Select(p => 100 * p.Top1).ToList());
        return chart;
    }

    /// <summary>The summary: settings, per-stage speed and memory, the speed-up and both curves.</summary>
    public static string Markdown(ProgressiveBenchmarkReport report)
    {
        var text = new StringBuilder();
        void Line(string s = "") => text.Append(s).Append('\n');
        var c = CultureInfo.InvariantCulture;
        Line($"# Fixed {report.FinalImageSize} px vs progressive resolution, {report.BudgetSeconds / 60:F1} min of training each");
        Line();
        Line(string.Create(c, $"Model `{report.Model}`; zero-shot top-1 at {report.FinalImageSize} px on the first {report.EvalImages} test images every {report.EvalEverySeconds:G} s of training time (evaluation excluded from the clock; {report.Clock} clock)."));
        Line(string.Create(c, $"Calibration (samples/s): {string.Join(", ", report.Calibration.Select(r => $"{r.ImageSize} px batch {r.BatchSize}: {r.SamplesPerSecond:F1}"))}."));
        Line();
        Line("| run | final top-1 | training s | evaluation s | peak working set |");
        Line("|---|---|---|---|---|");
        foreach (var run in new[] { report.Fixed, report.Progressive })
            Line(string.Create(c, $"| {run.Name} ({run.Description}) | {100 * run.FinalTop1:F1} % | {run.TrainingSeconds:F1} | {run.EvaluationSeconds:F1} | {Mib(run.PeakWorkingSetBytes)} MiB |"));
        Line();
        var s = report.SpeedUp;
        Line(s.ProgressiveSeconds is { } p
            ? string.Create(c, $"**Speed-up: {s.Describe()}**: the fixed run first reached its final {100 * s.TargetTop1:F1} % at {s.FixedSeconds:F1} s, the progressive run at {p:F1} s (linear interpolation between evaluations).")
            : string.Create(c, $"**Speed-up: not reached**: the progressive run never reached the fixed run's final {100 * s.TargetTop1:F1} % (fixed: at {s.FixedSeconds:F1} s)."));
        Line();
        Line("| run | stage | px | batch | samples | peak lr | planned s | training s | samples/s | calibrated samples/s | peak working set |");
        Line("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var run in new[] { report.Fixed, report.Progressive })
            foreach (var st in run.Stages)
                Line(string.Create(c, $"| {run.Name} | {st.Stage + 1} | {st.ImageSize} | {st.BatchSize} | {st.Samples} | {st.PeakLr:G3} | {st.PlannedSeconds:F1} | {st.TrainingSeconds:F1} | {st.SamplesPerSecond:F1} | {st.CalibratedSamplesPerSecond:F1} | {Mib(st.PeakWorkingSetBytes)} MiB |"));
        Line();
        Line(report.PeakMemoryPerStage
            ? "Peak working set: the process's resident high-water mark while each stage trained, reset (after returning freed heap to the kernel) at each stage start and around every evaluation; it includes the data set and runtime (the runs' baselines: "
              + string.Create(c, $"fixed {Mib(report.Fixed.BaselineWorkingSetBytes)} MiB, progressive {Mib(report.Progressive.BaselineWorkingSetBytes)} MiB).")
            : "Peak working set: the process's peak since it started (this system cannot reset the high-water mark), so later runs include earlier ones.");
        Line();
        foreach (var run in new[] { report.Fixed, report.Progressive })
        {
            Line($"## {run.Name} ({run.Description})");
            Line();
            Line($"| training s | samples | stage | training px | top-1 at {report.FinalImageSize} px | top-1 at training px |");
            Line("|---|---|---|---|---|---|");
            foreach (var point in run.Curve)
                Line(string.Create(c, $"| {point.TrainingSeconds:F1} | {point.Samples} | {point.Stage + 1} | {point.TrainingImageSize} | {100 * point.Top1:F1} % | {100 * point.Top1AtTrainingSize:F1} % |"));
            Line();
        }
        return text.ToString();
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("F0", CultureInfo.InvariantCulture);
}
