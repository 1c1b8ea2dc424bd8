using System.Text.Json;
using OpenVision.Lab.Plotting;

namespace OpenVision.Lab.Plotting;

/// <summary>PNG plots of a run's <c>metrics.jsonl</c>: losses, learning rate and temperature against step.</summary>
public static class TrainingPlots
{
    /// <summary>Writes <c>losses.png</c>, <c>lr.png</c> and <c>temperature.png</c> next to the metrics file; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string metricsPath)
    {
        var rows = File.ReadLines(metricsPath).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        if (rows.Count == 0) return [];
        string folder = Path.GetDirectoryName(Path.GetFullPath(metricsPath))!;
        var steps = rows.Select(r => r.GetProperty("step").GetDouble()).ToList();
        List<double> Column(string name) => rows.Select(r => r.GetProperty(name).GetDouble()).ToList();
        var paths = new List<string>();
        void Save(string name, LineChart chart)
        {
            string path = Path.Combine(folder, name);
            chart.Save(path);
            paths.Add(path);
        }
        Save("losses.png", new LineChart { Title = "training losses", XLabel = "step", YLabel = "loss" }
            .Add("total", steps, Column("loss")).Add("contrastive", steps, Column("contrastive")).Add("caption", steps, Column("caption")));
        Save("lr.png", new LineChart { Title = "learning rate (stages restart warmup + cosine)", XLabel = "step", YLabel = "lr" }
            .Add("lr", steps, Column("lr")));
        Save("temperature.png", new LineChart { Title = "temperature exp(logit_scale)", XLabel = "step", YLabel = "t" }
            .Add("t", steps, Column("temperature")));
        return paths;
    }
}
