using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using static OpenVision.Training.Tests.Evaluation.FakeEncoder;

namespace OpenVision.Training.Tests.Evaluation;

/// <summary>Retrieval with images on the axes (I_k = e_k) and captions placed by hand. Normalised captions:
/// t0 = e0; t1 = (.447, .894, 0, 0); t2 = (0, .424, .707, .566); t3 = e3; t4 = e2; t5 = (.743, 0, 0, .669).
/// Owners: I0 ← t0, t1; I1 ← t2; I2 ← t3, t4 (its first caption points elsewhere); I3 ← t5.</summary>
public class RetrievalEvaluatorTests
{
    private const int D = 4;

    internal static FakeEncoder Encoder() => new(
        new Dictionary<string, double[]> { ["I0"] = E(D, (0, 1)), ["I1"] = E(D, (1, 1)), ["I2"] = E(D, (2, 1)), ["I3"] = E(D, (3, 1)) },
        new Dictionary<string, double[]>
        {
            ["t0"] = E(D, (0, 1)),
            ["t1"] = E(D, (1, 1), (0, 0.5)),
            ["t2"] = E(D, (2, 1), (3, 0.8), (1, 0.6)),
            ["t3"] = E(D, (3, 1)),
            ["t4"] = E(D, (2, 1)),
            ["t5"] = E(D, (0, 1), (3, 0.9)),
        });

    private static ICaptionedImageSource Source() => new ListSource(
    [
        new CaptionedImage(FakeSamples.Good("I0"), ["t0", "t1"]),
        new CaptionedImage(FakeSamples.Good("I1"), ["t2"]),
        new CaptionedImage(FakeSamples.Bad("I9"), ["never encoded"]),
        new CaptionedImage(FakeSamples.Good("I2"), ["t3", "t4"]),
        new CaptionedImage(FakeSamples.Good("I3"), ["t5"]),
    ]);

    [Fact]
    public void RecallsEqualTheHandComputation()
    {
        var report = new RetrievalEvaluator(Source(), new RetrievalOptions { Ks = [1, 2, 3], BatchSize = 2 }).Evaluate(Encoder());

        // Image → text ranks (texts scoring above the image's best caption):
        // I0: t0 = 1 is best → 0.  I1: t2 = .424, t1 = .894 above → 1.  I2: t4 = 1 (its second caption) → 0.
        // I3: t5 = .669, t3 = 1 above → 1.  Ranks [0, 1, 0, 1].
        Assert.Equal(2 / 4.0, report.ImageToText[1]);
        Assert.Equal(1.0, report.ImageToText[2]);
        Assert.Equal(1.0, report.ImageToText[3]);
        // Text → image ranks (images scoring above the caption's own):
        // t0 → I0 first: 0.  t1: I1 .894 > I0 .447: 1.  t2: I2 .707, I3 .566 > I1 .424: 2.
        // t3 (of I2): I3 1 > I2 0: 1.  t4: I2 first: 0.  t5: I0 .743 > I3 .669: 1.  Ranks [0, 1, 2, 1, 0, 1].
        Assert.Equal(2 / 6.0, report.TextToImage[1]);
        Assert.Equal(5 / 6.0, report.TextToImage[2]);
        Assert.Equal(1.0, report.TextToImage[3]);
        Assert.Equal(4, report.Images);
        Assert.Equal(6, report.Texts);
        Assert.Equal("I9", Assert.Single(report.Skipped).Path);
        Assert.Equal(4, report.Throughput!.Images);
    }

    [Fact]
    public void MetricsUseClipBenchmarkNames()
    {
        var metrics = new RetrievalEvaluator(Source()).Run(Encoder()).ToDictionary(m => m.Name, m => m.Value);
        Assert.Equal(2 / 6.0, metrics["image_retrieval_recall@1"]);   // text → image
        Assert.Equal(2 / 4.0, metrics["text_retrieval_recall@1"]);    // image → text
        Assert.Equal(1.0, metrics["image_retrieval_recall@5"]);
        Assert.Equal(1.0, metrics["text_retrieval_recall@10"]);
        Assert.Equal(1, metrics["num_skipped"]);
    }

    [Fact]
    public void RanksAreChunkIndependent()
    {
        using var images = TorchSharp.torch.randn(37, 8).div(3);
        using var texts = TorchSharp.torch.randn(90, 8);
        var owner = Enumerable.Range(0, 90).Select(i => i % 37).ToList();
        using var ni = TorchSharp.torch.nn.functional.normalize(images, dim: -1);
        using var nt = TorchSharp.torch.nn.functional.normalize(texts, dim: -1);
        var whole = RetrievalRecall.Compute(ni, nt, owner, [1, 5, 10], chunkSize: 1000);
        var chunked = RetrievalRecall.Compute(ni, nt, owner, [1, 5, 10], chunkSize: 7);
        Assert.Equal(whole.ImageToText, chunked.ImageToText);
        Assert.Equal(whole.TextToImage, chunked.TextToImage);
    }

    private sealed class ListSource(IReadOnlyList<CaptionedImage> items) : ICaptionedImageSource
    {
        public string Name => "toy-captions";
        public long? Count => items.Count;
        public IEnumerable<CaptionedImage> Read(CancellationToken cancellationToken = default) => items;
    }
}
