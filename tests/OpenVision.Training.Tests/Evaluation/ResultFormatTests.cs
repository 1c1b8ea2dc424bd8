using System.Text.Json;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Results;

namespace OpenVision.Training.Tests.Evaluation;

public class ResultFormatTests
{
    private static BenchmarkResult Sample() => new()
    {
        Dataset = "imagenet1k",
        Model = "openvision-vit-tiny-patch16-160",
        Pretrained = "/models/tiny/open_clip_model.safetensors",
        Task = BenchmarkResult.ZeroShotClassification,
        Metrics = [new("acc1", 0.469), new("acc5", 0.7125), new("mean_per_class_recall", 0.46875), new("num_samples", 50000)],
    };

    [Fact]
    public void JsonHasClipBenchmarkFields()
    {
        using var document = JsonDocument.Parse(Sample().ToJson());
        var root = document.RootElement;
        Assert.Equal(["dataset", "model", "pretrained", "task", "metrics", "language"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("zeroshot_classification", root.GetProperty("task").GetString());
        Assert.Equal("en", root.GetProperty("language").GetString());
        Assert.Equal(0.469, root.GetProperty("metrics").GetProperty("acc1").GetDouble());
        Assert.Equal(50000, root.GetProperty("metrics").GetProperty("num_samples").GetDouble());
    }

    [Fact]
    public void JsonRoundTripsWithDetails()
    {
        var zeroShot = new ZeroShotEvaluator(
            OpenVision.Training.Evaluation.Datasets.LabeledImageSource.FromList("two", ["a", "b"], [FakeSamples.Labeled("x", 0), FakeSamples.Labeled("y", 1)]),
            new ZeroShotOptions { Templates = ["{}"] });
        var encoder = new FakeEncoder(
            new Dictionary<string, double[]> { ["x"] = [1, 0], ["y"] = [1, 0.1] },
            new Dictionary<string, double[]> { ["a"] = [1, 0], ["b"] = [0, 1] });
        var result = zeroShot.Evaluate(encoder).ToResult();
        var back = BenchmarkResult.FromJson(result.ToJson());
        Assert.Equal(result.Metrics, back.Metrics);
        Assert.Equal(("two", "fake", "hand-written"), (back.Dataset, back.Model, back.Pretrained));
        Assert.Equal(1.0, back.Details!["per_class_recall"]!["a"]!.GetValue<double>());
        Assert.Equal(0.0, back.Details!["per_class_recall"]!["b"]!.GetValue<double>());
        Assert.Equal(0.5, back["acc1"]);
    }

    [Fact]
    public void MarkdownHasOneTablePerTask()
    {
        var retrieval = Sample() with
        {
            Task = BenchmarkResult.ZeroShotRetrieval,
            Dataset = "coco",
            Metrics = [new("image_retrieval_recall@1", 0.25), new("text_retrieval_recall@1", 1.0 / 3)],
        };
        string markdown = MarkdownTable.Format([Sample(), retrieval]);
        string[] lines = markdown.Split('\n');
        Assert.Equal("### zeroshot_classification", lines[0]);
        Assert.Equal("| model | pretrained | dataset | acc1 | acc5 | mean_per_class_recall | num_samples |", lines[2]);
        Assert.Equal("|---|---|---|---:|---:|---:|---:|", lines[3]);
        Assert.Equal("| openvision-vit-tiny-patch16-160 | open_clip_model.safetensors | imagenet1k | 0.4690 | 0.7125 | 0.4688 | 50000 |", lines[4]);
        Assert.Contains("### zeroshot_retrieval", markdown);
        Assert.Contains("| coco | 0.2500 | 0.3333 |", markdown);
    }
}
