using OpenVision.Native;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Training.Evaluation.LinearModels;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>The standard linear probe: frozen-encoder features (cached on disk), multinomial logistic regression
/// with λ chosen on a validation split carved from the training set, a refit on training + validation, test
/// accuracy. With <see cref="LinearProbeOptions.KShot"/> it is the few-shot probe.</summary>
public sealed class LinearProbeEvaluator : IEvaluator
{
    private readonly ILabeledImageSource train, test;
    private readonly LinearProbeOptions options;

    /// <summary>A probe trained on <paramref name="train"/> and tested on <paramref name="test"/> (same class list).</summary>
    public LinearProbeEvaluator(ILabeledImageSource train, ILabeledImageSource test, LinearProbeOptions? options = null)
    {
        this.train = train ?? throw new ArgumentNullException(nameof(train));
        this.test = test ?? throw new ArgumentNullException(nameof(test));
        this.options = options ?? new LinearProbeOptions();
        if (train.ClassNames.Count != test.ClassNames.Count)
            throw new ArgumentException($"train has {train.ClassNames.Count} classes but test has {test.ClassNames.Count}");
        // Labels are class indices: the same count under other names (or another order) would score the wrong classes.
        for (int c = 0; c < train.ClassNames.Count; c++)
            if (train.ClassNames[c] != test.ClassNames[c])
                throw new ArgumentException($"train and test name their classes differently: class {c} is '{train.ClassNames[c]}' in train but '{test.ClassNames[c]}' in test");
    }

    /// <inheritdoc/>
    public string Name => options.Name ?? $"{test.Name}-linear-probe";

    /// <inheritdoc/>
    public IEnumerable<Metric> Run(OpenVisionEncoder encoder, CancellationToken cancellationToken = default) =>
        Evaluate(encoder, cancellationToken).ToMetrics();

    /// <summary>Extracts (or reads cached) features, then probes them.</summary>
    public LinearProbeReport Evaluate(OpenVisionEncoder encoder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var transform = EvaluationTransform.For(encoder, options.Resize);
        var cache = options.CacheFolder is null ? null : new FeatureCache(options.CacheFolder);
        using var trainSet = FeatureExtractor.Extract(encoder, train, transform, options.BatchSize, cache, options.Progress, "train images", cancellationToken);
        using var testSet = FeatureExtractor.Extract(encoder, test, transform, options.BatchSize, cache, options.Progress, "test images", cancellationToken);
        return EvaluateFeatures(trainSet, testSet, encoder.Config.Name, encoder.Pretrained(), cancellationToken) with
        {
            Transform = FeatureCache.Describe(transform.Options),
        };
    }

    /// <summary>Probes features already extracted: split, sweep, refit, test.</summary>
    public LinearProbeReport EvaluateFeatures(FeatureSet trainSet, FeatureSet testSet, string model, string pretrained, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainSet);
        ArgumentNullException.ThrowIfNull(testSet);
        int classCount = trainSet.ClassNames.Count;
        using var scope = torch.NewDisposeScope();
        var device = options.Device ?? CPU;
        var trainX = Prepare(trainSet.Features, device);
        var testX = Prepare(testSet.Features, device);
        var trainY = torch.tensor(trainSet.Labels, device: device);

        int[] subset = options.KShot is { } k ? ProbeSplits.FewShot(trainSet.Labels, k, options.Seed) : Enumerable.Range(0, trainSet.Count).ToArray();
        if (options.Standardize)
        {
            // Statistics of the samples the probe may see (the k-shot subset), never of the test set.
            var seen = Rows(trainX, subset);
            var mean = seen.mean([0], keepdim: true);
            using var floor = 1e-6.ToScalar();   // a Scalar alive until add returns (see Native.KeptScalars)
            var std = seen.shape[0] > 1 ? seen.std(0, keepdim: true).add(floor, KeptScalars.One) : torch.ones_like(mean);
            (trainX, testX) = ((trainX - mean) / std, (testX - mean) / std);
        }
        var (fitIdx, valIdx) = ProbeSplits.Validation(trainSet.Labels, subset, options.ValidationFraction, options.Seed);
        double l2 = options.FallbackL2;
        IReadOnlyList<L2SweepPoint> sweep = [];
        if (valIdx.Length > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var meter = new ProgressMeter(options.L2Grid.Distinct().Count());
            var progress = options.Progress is { } p ? new Reporter<int>(_ => p.Report(new EvaluationProgress("l2 fits", meter.Add(1)))) : null;
            (l2, sweep) = L2Sweep.Run(Rows(trainX, fitIdx), Rows(trainY, fitIdx), Rows(trainX, valIdx), Rows(trainY, valIdx),
                classCount, options.L2Grid, options.Solver, progress);
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var final = LogisticRegression.Fit(Rows(trainX, subset), Rows(trainY, subset), classCount, l2, options.Solver);
        var tally = new ClassificationTally(classCount);
        var top = final.Logits(testX).topk(tally.K, dim: 1).indexes.cpu().contiguous();
        tally.AddBatch(testSet.Labels, top.data<long>().ToArray(), tally.K);
        return new LinearProbeReport
        {
            Dataset = test.Name,
            Model = model,
            Pretrained = pretrained,
            ClassNames = trainSet.ClassNames,
            Tally = tally,
            L2 = l2,
            Sweep = sweep,
            TrainCount = fitIdx.Length,
            ValidationCount = valIdx.Length,
            KShot = options.KShot,
            Seed = options.Seed,
            FinalFit = (final.Iterations, final.Converged),
            SkippedTrain = trainSet.Skipped,
            SkippedTest = testSet.Skipped,
            FromCache = (trainSet.FromCache, testSet.FromCache),
            Throughput = (trainSet.Throughput, testSet.Throughput),
            FeaturePreparation = (options.Normalize ? "l2" : "raw") + (options.Standardize ? "+standardized" : ""),
        };
    }

    private Tensor Prepare(Tensor features, Device device)
    {
        var x = features.to(options.DType, device);
        return options.Normalize ? nn.functional.normalize(x, dim: -1) : x;
    }

    // Progress<T> posts to the thread pool; reports must arrive in order, on this thread.
    private sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private static Tensor Rows(Tensor t, int[] indices) => t.index_select(0, torch.tensor(indices.Select(i => (long)i).ToArray(), device: t.device));
}
