using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Training.Evaluation.LinearModels;
using TorchSharp;
using static OpenVision.Training.Tests.Evaluation.FakeEncoder;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Evaluation;

public class LinearProbeTests
{
    // Three well-separated clusters in 3-D (around the axes); the test points lie in them → 100 %.
    [Fact]
    public void SeparableToySetScoresOneHundredPercent()
    {
        var (train, test, encoder) = SeparableToy();
        var report = new LinearProbeEvaluator(train, test, new LinearProbeOptions { Progress = new ZeroShotEvaluatorTests.Collect([]) }).Evaluate(encoder);
        Assert.Equal(1.0, report.Top1);
        Assert.Equal(1.0, report.Tally.MeanPerClassRecall);
        Assert.Equal(9, report.Sweep.Count);                      // 1e-6 … 1e2, one per decade
        Assert.True(report.FinalFit.Converged);
        Assert.Equal(12 + 3, report.TrainCount + report.ValidationCount);
        Assert.Equal(3, report.ValidationCount);                  // 20 % of 5 per class → 1 each
    }

    // One-hot "locations": a linear model can learn each location's majority label and nothing more, so the
    // test accuracy is fixed by the label mix at each location.
    //   train  loc0: 4×A   loc1: 4×B   loc2: 3×A 1×B   loc3: 1×A 3×C   → predictions A, B, A, C
    //   test   loc0: A A   loc1: B     loc2: A B B     loc3: C A       → ✓✓ ✓ ✓✗✗ ✓✗ = 5/8
    // Per class: A 3/4 (loc0 ×2, loc2 ✓; loc3 ✗), B 1/3, C 1/1.
    [Fact]
    public void OverlappingToySetScoresTheBayesAccuracy()
    {
        var train = FeatureSetOf([(0, 0), (0, 0), (0, 0), (0, 0), (1, 1), (1, 1), (1, 1), (1, 1),
                                  (2, 0), (2, 0), (2, 0), (2, 1), (3, 0), (3, 2), (3, 2), (3, 2)]);
        var test = FeatureSetOf([(0, 0), (0, 0), (1, 1), (2, 0), (2, 1), (2, 1), (3, 2), (3, 0)]);
        // No validation split: the fit uses every training sample with a small λ.
        var options = new LinearProbeOptions { ValidationFraction = 0, FallbackL2 = 1e-4 };
        var probe = new LinearProbeEvaluator(Dummy("train"), Dummy("test"), options);
        var report = probe.EvaluateFeatures(train, test, "fake", "none");
        Assert.Equal(5.0 / 8, report.Top1);
        Assert.Equal([0.75, 1.0 / 3, 1.0], report.Tally.PerClassRecall().Select(r => r!.Value));
        Assert.Empty(report.Sweep);
        Assert.Equal(1e-4, report.L2);
    }

    // 1-D toy: class 0 at x = 0 (×3), class 1 at x = 1 (×1). The decision boundary −b/w moves from the max-margin
    // point 0.5 (λ → 0) towards the minority class as λ grows (the prior takes over). Solved independently
    // (Newton on the equivalent binary problem, penalty λ/4·w²): λ 1e-2 → 0.609, 1e-1 → 0.854, 1 → 3.41.
    // Validation points x = 0.7 (class 0) and x = 1 (class 1) are both right only when 0.7 < boundary < 1: λ = 0.1.
    // Labels are indices into the class list: test classes of other names would be scored as the train classes.
    [Fact]
    public void TrainAndTestMustNameTheSameClassesInOrder()
    {
        var train = LabeledImageSource.FromList("train", ["bird", "cat", "dog"], []);
        var renamed = LabeledImageSource.FromList("test", ["cat", "dog", "fish"], []);
        Assert.Equal("train and test name their classes differently: class 0 is 'bird' in train but 'cat' in test",
            Assert.Throws<ArgumentException>(() => new LinearProbeEvaluator(train, renamed)).Message);
        _ = new LinearProbeEvaluator(train, LabeledImageSource.FromList("test", ["bird", "cat", "dog"], []));
    }

    [Fact]
    public void SweepPicksTheOnlyLambdaThatSeparatesTheValidationPoints()
    {
        using var scope = NewDisposeScope();
        var trainX = tensor(new double[] { 0, 0, 0, 1 }, [4, 1]);
        var trainY = tensor(new long[] { 0, 0, 0, 1 });
        var valX = tensor(new double[] { 0.7, 1.0 }, [2, 1]);
        var valY = tensor(new long[] { 0, 1 });
        var (best, points) = L2Sweep.Run(trainX, trainY, valX, valY, 2, L2Sweep.LogGrid(-4, 2, 7));
        Assert.Equal(0.1, best, 12);
        Assert.Equal(1.0, points.Single(p => Math.Abs(p.L2 - 0.1) < 1e-12).ValidationAccuracy);
        Assert.All(points.Where(p => Math.Abs(p.L2 - 0.1) > 1e-12), p => Assert.Equal(0.5, p.ValidationAccuracy));

        // The fitted boundary matches the independent solution.
        using var model = LogisticRegression.Fit(trainX, trainY, 2, 0.1);
        double w = (model.Weight[0, 1] - model.Weight[0, 0]).ToDouble(), b = (model.Bias[1] - model.Bias[0]).ToDouble();
        Assert.Equal(0.8536833115608482, -b / w, 6);
        Assert.True(model.Converged);
    }

    [Fact]
    public void GradientMatchesAutograd()
    {
        // The closed-form gradient in LogisticRegression against torch autograd, through the objective's optimum:
        // at the solution the autograd gradient of the same objective must vanish.
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var x = randn(20, 5, ScalarType.Float64);
        var y = randint(0, 3, [20], ScalarType.Int64);
        using var model = LogisticRegression.Fit(x, y, 3, 0.05);
        var w = model.Weight.clone().requires_grad_(true);
        var b = model.Bias.clone().requires_grad_(true);
        var loss = nn.functional.cross_entropy(x.matmul(w) + b, y) + 0.025 * w.square().sum();
        loss.backward();
        Assert.True(w.grad!.abs().max().ToDouble() < 1e-6);
        Assert.True(b.grad!.abs().max().ToDouble() < 1e-6);
    }

    [Fact]
    public void FewShotPicksExactlyKPerClassDeterministically()
    {
        long[] labels = [.. Enumerable.Repeat(0L, 10), .. Enumerable.Repeat(1L, 7), .. Enumerable.Repeat(2L, 2)];
        var picked = ProbeSplits.FewShot(labels, 3, seed: 42);
        Assert.Equal([3, 3, 2], picked.GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.Equal(picked, ProbeSplits.FewShot(labels, 3, seed: 42));
        Assert.Equal(picked.Order(), picked);
        Assert.Equal(picked.Length, picked.Distinct().Count());
        var others = Enumerable.Range(0, 10).Select(s => ProbeSplits.FewShot(labels, 3, s)).ToList();
        Assert.Contains(others, o => !o.SequenceEqual(picked));
    }

    [Fact]
    public void ValidationSplitIsStratifiedAndDisjoint()
    {
        long[] labels = [.. Enumerable.Repeat(0L, 10), .. Enumerable.Repeat(1L, 5), 2];
        var all = Enumerable.Range(0, labels.Length).ToArray();
        var (train, validation) = ProbeSplits.Validation(labels, all, 0.2, seed: 1);
        Assert.Equal([2, 1], validation.GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(all, train.Concat(validation).Order());
        Assert.Contains(15, train);                              // a class of one stays in training
    }

    [Fact]
    public void FewShotProbeUsesKPerClass()
    {
        var (train, test, encoder) = SeparableToy();
        var report = new LinearProbeEvaluator(train, test, new LinearProbeOptions { KShot = 2, Seed = 7 }).Evaluate(encoder);
        Assert.Equal(6, report.TrainCount + report.ValidationCount);
        Assert.Equal(3, report.ValidationCount);
        Assert.Equal(1.0, report.Top1);
        Assert.Contains(report.ToMetrics(), m => m.Name == "fewshot_k" && m.Value == 2);
    }

    [Fact]
    public void StandardizedFeaturesStillSeparateTheToySet()
    {
        var (train, test, encoder) = SeparableToy();
        var report = new LinearProbeEvaluator(train, test, new LinearProbeOptions { Standardize = true, L2Grid = [1e-3, 1] }).Evaluate(encoder);
        Assert.Equal(1.0, report.Top1);
        Assert.Equal("l2+standardized", report.FeaturePreparation);
        Assert.Equal("l2+standardized", report.ToResult().Details!["features"]!.GetValue<string>());
    }

    [Fact]
    public void SecondRunReadsCachedFeaturesWithoutCallingTheEncoder()
    {
        string folder = FakeSamples.TempFolder();
        try
        {
            var (train, test, encoder) = SeparableToy();
            var options = new LinearProbeOptions { CacheFolder = folder, L2Grid = [1e-3] };
            var first = new LinearProbeEvaluator(train, test, options).Evaluate(encoder);
            int calls = encoder.ImageCalls;
            Assert.True(calls > 0);
            Assert.Equal((false, false), first.FromCache);
            Assert.Equal(2, Directory.GetFiles(folder, "*.safetensors").Length);
            // Rates count the encoded images (15 train, 6 test; the broken one is not an image encoded).
            Assert.Equal((15L, 6L), (first.Throughput.Train!.Images, first.Throughput.Test!.Images));
            Assert.True(first.Throughput.Train.Seconds > 0);

            var second = new LinearProbeEvaluator(train, test, options with { KShot = 3 }).Evaluate(encoder);
            Assert.Equal(calls, encoder.ImageCalls);
            Assert.Equal((true, true), second.FromCache);
            Assert.Null(second.Throughput.Train);                    // nothing was encoded
            Assert.Null(second.Throughput.Test);
            Assert.Null(second.ToResult().Details!["throughput"]!["train"]);
            Assert.Single(second.SkippedTrain);                  // the skipped sample is remembered in the cache
            Assert.Equal(1.0, second.Top1);

            // Another model identity is another cache entry.
            var other = new FakeEncoder(encoder.ImagesTable, encoder.TextsTable) { CacheIdentity = "fake-v2" };
            new LinearProbeEvaluator(train, test, options).Evaluate(other);
            Assert.True(other.ImageCalls > 0);
            Assert.Equal(4, Directory.GetFiles(folder, "*.safetensors").Length);
        }
        finally { Directory.Delete(folder, true); }
    }

    private static (LabeledImageSource Train, LabeledImageSource Test, FakeEncoder Encoder) SeparableToy()
    {
        var images = new Dictionary<string, double[]>();
        var trainSamples = new List<LabeledImage>();
        var testSamples = new List<LabeledImage>();
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < 5; i++)
            {
                images[$"train-{c}-{i}"] = E(3, (c, 1), ((c + 1) % 3, 0.1 * i));
                trainSamples.Add(FakeSamples.Labeled($"train-{c}-{i}", c));
            }
            for (int i = 0; i < 2; i++)
            {
                images[$"test-{c}-{i}"] = E(3, (c, 1), ((c + 2) % 3, 0.15 * i));
                testSamples.Add(FakeSamples.Labeled($"test-{c}-{i}", c));
            }
        }
        trainSamples.Add(new LabeledImage(FakeSamples.Bad("train-broken"), 0));
        string[] classes = ["a", "b", "c"];
        return (LabeledImageSource.FromList("toy-train", classes, trainSamples, fingerprint: "toy-train-v1"),
                LabeledImageSource.FromList("toy-test", classes, testSamples, fingerprint: "toy-test-v1"),
                new FakeEncoder(images, new Dictionary<string, double[]>()));
    }

    private static FeatureSet FeatureSetOf(IReadOnlyList<(int Location, long Label)> rows)
    {
        var features = torch.zeros(rows.Count, 4);
        for (int i = 0; i < rows.Count; i++) features[i, rows[i].Location] = 1;
        return new FeatureSet(features, rows.Select(r => r.Label).ToArray(), ["A", "B", "C"], [], FromCache: false);
    }

    private static LabeledImageSource Dummy(string name) => LabeledImageSource.FromList(name, ["A", "B", "C"], []);
}
