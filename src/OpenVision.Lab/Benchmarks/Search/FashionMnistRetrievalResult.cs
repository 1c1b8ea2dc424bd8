using System.Globalization;
using System.Text;
using OpenVision.Training.Evaluation;

namespace OpenVision.Lab.Benchmarks.Search;

/// <summary>End-to-end text→image retrieval on the Fashion-MNIST test split: the retrieval evaluator's recall@k in
/// both directions, and the same model's queries through an <see cref="OpenVision.Search.ImageIndex"/>.</summary>
/// <param name="Model">The model evaluated.</param>
/// <param name="Images">Test images.</param>
/// <param name="AltText">The evaluator with each image's alt-text (the shards' <c>.txt</c>) as its caption.</param>
/// <param name="Recaption">The evaluator with each image's generated descriptive caption (<c>.json</c> recaption).</param>
/// <param name="Index">Class prompts and alt-text captions as queries through the index.</param>
/// <param name="IndexImagesPerSecond">Embedding rate of the index build.</param>
/// <param name="ShardPattern">The test shards (kept when a work folder was given).</param>
/// <param name="IndexFolder">The index (kept when a work folder was given).</param>
public sealed record FashionMnistRetrievalResult(string Model, int Images, RetrievalReport AltText, RetrievalReport Recaption,
    IReadOnlyList<IndexQueryQuality> Index, double IndexImagesPerSecond, string ShardPattern, string IndexFolder)
{
    /// <summary>The figures as two Markdown tables.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(c, $"Retrieval evaluator (COCO / Flickr30k protocol), {Images:N0} test images, one caption each:").AppendLine();
        s.AppendLine("| captions | text→image R@1 / R@5 / R@10 | image→text R@1 / R@5 / R@10 |").AppendLine("|---|---|---|");
        foreach (var (name, report) in new[] { ("alt-text (.txt)", AltText), ("recaption (.json)", Recaption) })
            s.AppendLine(c, $"| {name} | {Recalls(report.TextToImage)} | {Recalls(report.ImageToText)} |");
        s.AppendLine().AppendLine(c, $"Through the index ({IndexImagesPerSecond:F0} images/s to build), top 10 per query:").AppendLine();
        s.AppendLine("| queries | n | class precision@10 exact / HNSW | own image in top 10 exact / HNSW | HNSW recall@10 vs exact |").AppendLine("|---|---|---|---|---|");
        foreach (var q in Index)
        {
            string own = q.ExactOwnImageAt10 is { } e ? string.Create(c, $"{e:F4} / {q.HnswOwnImageAt10:F4}") : "–";
            s.AppendLine(c, $"| {q.Queries} | {q.Count:N0} | {q.ExactClassPrecisionAt10:F4} / {q.HnswClassPrecisionAt10:F4} | {own} | {q.HnswRecallAt10:F4} |");
        }
        return s.ToString();
    }

    private static string Recalls(IReadOnlyDictionary<int, double> recall) =>
        string.Join(" / ", recall.OrderBy(p => p.Key).Select(p => p.Value.ToString("F4", CultureInfo.InvariantCulture)));
}
