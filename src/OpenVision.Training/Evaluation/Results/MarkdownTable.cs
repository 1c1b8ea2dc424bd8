using System.Globalization;
using System.Text;

namespace OpenVision.Training.Evaluation.Results;

/// <summary>Results as Markdown: one table per task, a row per (model, data set), a column per metric.</summary>
public static class MarkdownTable
{
    /// <summary>The tables for <paramref name="results"/>, tasks in first-seen order.</summary>
    public static string Format(IEnumerable<BenchmarkResult> results)
    {
        var text = new StringBuilder();
        foreach (var group in results.GroupBy(r => r.Task))
        {
            var columns = group.SelectMany(r => r.Metrics.Select(m => m.Name)).Distinct().ToList();
            if (text.Length > 0) text.Append('\n');
            text.Append("### ").Append(group.Key).Append("\n\n");
            text.Append("| model | pretrained | dataset | ").Append(string.Join(" | ", columns)).Append(" |\n");
            text.Append("|---|---|---|").Append(string.Concat(columns.Select(_ => "---:|"))).Append('\n');
            foreach (var result in group)
            {
                var values = columns.Select(c => result.Metrics.FirstOrDefault(m => m.Name == c) is { Name: not null } m ? FormatValue(m) : "");
                text.Append("| ").Append(Escape(result.Model)).Append(" | ").Append(Escape(Path.GetFileName(result.Pretrained)))
                    .Append(" | ").Append(Escape(result.Dataset)).Append(" | ").Append(string.Join(" | ", values)).Append(" |\n");
            }
        }
        return text.ToString();
    }

    /// <summary>Counts (num_*, fewshot_k, seed) as integers, tiny values (an L2 strength) in exponent form,
    /// everything else with four decimals.</summary>
    public static string FormatValue(Metric metric)
    {
        double value = metric.Value;
        if (metric.Name.StartsWith("num_", StringComparison.Ordinal) || metric.Name is "fewshot_k" or "seed")
            return value.ToString("0", CultureInfo.InvariantCulture);
        return value.ToString(Math.Abs(value) is > 0 and < 1e-3 or >= 1e4 ? "0.###e+0" : "0.0000", CultureInfo.InvariantCulture);
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
