using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Evaluation;

/// <summary>The whole pipeline through the reference Tiny/16-160 model (random but trained-shaped weights) on a
/// handful of real images in a class-folder layout: the evaluator's numbers must equal what the library's own
/// classifier computes image by image.</summary>
public class RealModelEvaluationTests : IDisposable
{
    private static readonly Dictionary<string, string[]> Layout = new()
    {
        ["camera"] = ["camera.png", "truncated.jpg"],
        ["horse"] = ["horse.png"],
        ["rocket"] = ["rocket.jpg"],
        ["tabby_cat"] = ["chelsea.png", "chelsea_q90_444.jpg", "chelsea.webp"],
    };
    private static readonly IReadOnlyList<string> Templates = PromptSets.ClipPaperTemplates.Take(2).ToList();
    private readonly string folder = FakeSamples.TempFolder();

    public RealModelEvaluationTests()
    {
        foreach (var (label, files) in Layout)
        {
            Directory.CreateDirectory(Path.Combine(folder, label));
            foreach (var file in files) File.Copy(ReferenceFiles.Image(file), Path.Combine(folder, label, file));
        }
    }

    public void Dispose() => Directory.Delete(folder, true);

    [Fact]
    public void ZeroShotAgreesWithTheClassifierImageByImage()
    {
        using var model = OpenVisionEncoder.Load(ReferenceFiles.TinyModel);
        var encoder = model;
        var source = new ClassFolderSource(folder);
        var report = new ZeroShotEvaluator(source, new ZeroShotOptions { Templates = Templates, BatchSize = 2 }).Evaluate(encoder);

        Assert.Equal(6, report.Tally.Samples);
        Assert.Contains("truncated.jpg", Assert.Single(report.Skipped).Path);
        Assert.Equal(FeatureCache.Describe(model.Transform.Options), report.Transform);

        // The same numbers from the library's classifier, one image at a time.
        using var classifier = model.CreateClassifier(source.ClassNames, Templates, canonicalize: true);
        var expected = new ClassificationTally(source.ClassNames.Count);
        foreach (var sample in source.Read().Where(s => !s.Image.Key.EndsWith("truncated.jpg", StringComparison.Ordinal)))
        {
            using var features = model.EncodeImageFiles([sample.Image.Key]);
            var top = classifier.Top(features, source.ClassNames.Count)[0];
            expected.Add(sample.Label, top.Select(t => (long)t.Index).ToArray());
        }
        Assert.Equal(expected.Confusion(), report.Tally.Confusion());
        Assert.Equal(expected.Top1, report.Top1);
        Assert.Equal(expected.MeanPerClassRecall, report.Tally.MeanPerClassRecall);

        // The paper's crop changes the transform (and is what the report says it used).
        var cropped = new ZeroShotEvaluator(source, new ZeroShotOptions { Templates = Templates, Resize = ResizeMode.JaxCenterCrop }).Evaluate(encoder);
        Assert.Contains("JaxCenterCrop", cropped.Transform);
        Assert.Equal(6, cropped.Tally.Samples);
    }

    [Fact]
    public void LinearProbeRunsOnRealFeaturesAndCachesThem()
    {
        string cache = Path.Combine(folder, "..", Path.GetFileName(folder) + "-cache");
        try
        {
            using var model = OpenVisionEncoder.Load(ReferenceFiles.TinyModel);
            var encoder = model;
            Assert.NotNull(encoder.CacheIdentity);
            var source = new ClassFolderSource(folder);
            var options = new LinearProbeOptions { CacheFolder = cache, L2Grid = [1e-4, 1e-2], ValidationFraction = 0 };
            var first = new LinearProbeEvaluator(source, source, options).Evaluate(encoder);
            // Training and test are the same six images: the probe must at least fit them.
            Assert.Equal(1.0, first.Top1);
            Assert.Equal((false, true), first.FromCache);      // the test split is the same data: read back
            var second = new LinearProbeEvaluator(source, source, options).Evaluate(encoder);
            Assert.Equal((true, true), second.FromCache);
            Assert.Equal(first.Top1, second.Top1);

            using var features = model.EncodeImageFiles([Path.Combine(folder, "horse", "horse.png")], normalize: false);   // the cache holds raw features
            var cached = FeatureCache.TryRead(Directory.GetFiles(cache).Single(), source.ClassNames)!;
            using (cached)
            {
                // Rows follow the source order without the skipped file: camera.png, horse.png, …
                var kept = source.Read().Select(x => x.Image.Key).Where(k => !k.EndsWith("truncated.jpg", StringComparison.Ordinal)).ToList();
                int row = kept.FindIndex(k => k.EndsWith("horse.png", StringComparison.Ordinal));
                Assert.Equal(kept.Count, cached.Count);
                Assert.True(cached.Features[row].allclose(features[0], rtol: 1e-5, atol: 1e-5));
            }
        }
        finally { if (Directory.Exists(cache)) Directory.Delete(cache, true); }
    }
}
