using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using static OpenVision.Training.Tests.Evaluation.FakeEncoder;

namespace OpenVision.Training.Tests.Evaluation;

/// <summary>Zero-shot classification with hand-designed embeddings in 7 dimensions. Class weights (worked out by hand):
/// w0 = normalize(normalize(10·e0) + normalize(e1)) = (e0 + e1)/√2, and w_c = e_{c+1} for c = 1..5. Each image's
/// scores are then dot products with those, so every prediction below can be checked on paper.</summary>
public class ZeroShotEvaluatorTests
{
    private const int D = 7;
    private static readonly string[] Classes = ["Great_White shark", "dog", "fox", "owl", "eel", "ant"];
    // Canonicalised as big_vision does: "a photo of a {}." → "a photo of a {}", "great white shark".
    private static readonly string[] Templates = ["a photo of a {}.", "A drawing of a {}!"];

    private static FakeEncoder Encoder()
    {
        var texts = new Dictionary<string, double[]>
        {
            // Class 0: two prompts of very different norms; only per-prompt normalisation gives (e0 + e1)/√2.
            ["a photo of a great white shark"] = E(D, (0, 10)),
            ["a drawing of a great white shark"] = E(D, (1, 1)),
        };
        for (int c = 1; c < Classes.Length; c++)
        {
            texts[$"a photo of a {Classes[c]}"] = E(D, (c + 1, 1));
            texts[$"a drawing of a {Classes[c]}"] = E(D, (c + 1, 3));
        }
        var images = new Dictionary<string, double[]>
        {
            // A (0): w0·x = 0.707, w1·x = 0.5 → 0 ✓. Averaging raw prompts would give w0 ≈ e0 and predict 1.
            ["A"] = E(D, (1, 1), (2, 0.5)),
            ["B"] = E(D, (2, 1)),                                  // B (1): → 1 ✓
            ["C"] = E(D, (3, 0.9), (4, 1)),                        // C (2): w3 = 1 > w2 = 0.9 → 3 ✗, second → top-5 ✓
            ["D"] = E(D, (4, 1)),                                  // D (3): → 3 ✓
            // E (4): scores w0 .707, w3 .5, w2 .4, w1 .3, w5 .2, w4 .1 → class 4 is sixth: ✗ top-1, ✗ top-5
            ["E"] = E(D, (0, 1), (4, 0.5), (3, 0.4), (2, 0.3), (6, 0.2), (5, 0.1)),
            ["F"] = E(D, (6, 1)),                                  // F (5): → 5 ✓
            ["G"] = E(D, (3, 1), (2, 0.1)),                        // G (1): w2 1 > w1 .1 → 2 ✗, second → top-5 ✓
        };
        return new FakeEncoder(images, texts);
    }

    private static LabeledImageSource Source() => LabeledImageSource.FromList("toy", Classes,
    [
        FakeSamples.Labeled("A", 0), FakeSamples.Labeled("B", 1), FakeSamples.Labeled("C", 2),
        new LabeledImage(FakeSamples.Bad("broken.jpg"), 2),
        FakeSamples.Labeled("D", 3), FakeSamples.Labeled("E", 4), FakeSamples.Labeled("F", 5), FakeSamples.Labeled("G", 1),
    ]);

    [Fact]
    public void AccuraciesEqualTheHandComputation()
    {
        var encoder = Encoder();
        var progress = new List<EvaluationProgress>();
        var evaluator = new ZeroShotEvaluator(Source(), new ZeroShotOptions { Templates = Templates, BatchSize = 3, Progress = new Collect(progress) });
        var report = evaluator.Evaluate(encoder);

        Assert.Equal(7, report.Tally.Samples);
        Assert.Equal(4.0 / 7, report.Top1);              // A, B, D, F
        Assert.Equal(6.0 / 7, report.Top5);              // all but E
        var recall = report.Tally.PerClassRecall();
        Assert.Equal([1.0, 0.5, 0.0, 1.0, 0.0, 1.0], recall.Select(r => r!.Value));
        Assert.Equal((1 + 0.5 + 0 + 1 + 0 + 1) / 6.0, report.Tally.MeanPerClassRecall, 15);
        var expected = new long[6, 6];
        expected[0, 0] = 1; expected[1, 1] = 1; expected[1, 2] = 1; expected[2, 3] = 1; expected[3, 3] = 1; expected[4, 0] = 1; expected[5, 5] = 1;
        Assert.Equal(expected, report.Tally.Confusion());

        var skipped = Assert.Single(report.Skipped);
        Assert.Equal("broken.jpg", skipped.Path);
        Assert.Contains("truncated", skipped.Reason);
        Assert.Equal(12, encoder.TextsSeen.Count);       // 6 classes × 2 canonical templates, each once
        Assert.Equal(3, encoder.ImageCalls);              // batches of 3: [A B C] [bad D E] → [A B C] [D E] [F G]
        Assert.Contains(progress, p => p.Stage == "images" && p.Report.Done == 8 && p.Report.Skipped == 1);

        // The rate of the image loop counts the seven encoded images, and lands in the JSON details.
        Assert.Equal(7, report.Throughput!.Images);
        Assert.True(report.Throughput.Seconds > 0);
        Assert.Equal(report.Throughput.Images / report.Throughput.Seconds, report.Throughput.ImagesPerSecond);
        Assert.Equal(7, report.ToResult().Details!["throughput"]!["images"]!.GetValue<long>());
    }

    [Fact]
    public void RunYieldsClipBenchmarkMetrics()
    {
        var metrics = new ZeroShotEvaluator(Source(), new ZeroShotOptions { Templates = Templates }).Run(Encoder()).ToDictionary(m => m.Name, m => m.Value);
        Assert.Equal(4.0 / 7, metrics["acc1"]);
        Assert.Equal(6.0 / 7, metrics["acc5"]);
        Assert.Equal(7, metrics["num_samples"]);
        Assert.Equal(1, metrics["num_skipped"]);
        Assert.True(metrics.ContainsKey("mean_per_class_recall"));
    }

    [Fact]
    public void WithoutCanonicalisationThePromptsAreTakenVerbatim()
    {
        var encoder = Encoder();
        var evaluator = new ZeroShotEvaluator(Source(), new ZeroShotOptions { Templates = Templates, Canonicalize = false });
        var error = Assert.Throws<KeyNotFoundException>(() => evaluator.Evaluate(encoder));
        // The backend sees token ids; the verbatim prompt (underscore and full stop kept) is what reached it.
        var tokenizer = OpenVisionEncoder.CreateTokenizer(encoder.Config);
        Assert.Contains(tokenizer.Decode(tokenizer.Encode("a photo of a Great_White shark.")), error.Message);
        Assert.DoesNotContain(tokenizer.Decode(tokenizer.Encode("a photo of a great white shark")) + "'", error.Message);
    }

    [Fact]
    public void FewerThanFiveClassesReportNoAcc5()
    {
        var texts = new Dictionary<string, double[]> { ["a"] = E(2, (0, 1)), ["b"] = E(2, (1, 1)) };
        var images = new Dictionary<string, double[]> { ["x"] = E(2, (0, 1), (1, 0.2)), ["y"] = E(2, (0, 1)) };
        var source = LabeledImageSource.FromList("two", ["a", "b"], [FakeSamples.Labeled("x", 0), FakeSamples.Labeled("y", 1)]);
        var report = new ZeroShotEvaluator(source, new ZeroShotOptions { Templates = ["{}"] }).Evaluate(new FakeEncoder(images, texts));
        Assert.Equal(0.5, report.Top1);
        Assert.Null(report.Top5);
        Assert.DoesNotContain(report.ToMetrics(), m => m.Name == "acc5");
    }

    [Fact]
    public void AllImagesBrokenIsAnError()
    {
        var source = LabeledImageSource.FromList("bad", ["a"], [new LabeledImage(FakeSamples.Bad("x.png"), 0)]);
        var texts = new Dictionary<string, double[]> { ["a"] = E(2, (0, 1)) };
        var error = Assert.Throws<InvalidDataException>(() => new ZeroShotEvaluator(source, new ZeroShotOptions { Templates = ["{}"] }).Evaluate(new FakeEncoder(new Dictionary<string, double[]>(), texts)));
        Assert.Contains("1 skipped", error.Message);
    }

    internal sealed class Collect(List<EvaluationProgress> into) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => into.Add(value);
    }
}
