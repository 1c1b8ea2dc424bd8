using OpenVision.Native;
using OpenVision.Tests.Native;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Evaluation;

[CollectionDefinition(nameof(EvaluationScalarLifetimeTests), DisableParallelization = true)]
public sealed class EvaluationScalarLifetimeCollection;

/// <summary>The guard of the evaluation code: the linear probe (standardisation, λ sweep, L-BFGS fits, test logits)
/// and retrieval recall must leave no Scalar or Tensor to the finalizer. A Scalar left there was unreachable while
/// libtorch could still read it, which a collection on another thread turns into <c>Expected false to be true …
/// toDouble</c> (see Native.KeptScalars). Runs alone: the counter sees every finalization in the process. That the
/// counter sees a temporary Scalar at all is checked next to the inference guard (ScalarFinalizationTests).</summary>
[Collection(nameof(EvaluationScalarLifetimeTests))]
public class EvaluationScalarLifetimeTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void LinearProbeAndRetrievalLeaveNoScalarOrTensorToTheFinalizer()
    {
        using var counter = new FinalizationCounter();
        Run();                                   // first call: lazy tables and caches are built
        counter.Settle(EventTimeout);
        counter.Reset();
        Run();
        counter.Settle(EventTimeout);
        Assert.True(counter.Scalars == 0 && counter.Tensors == 0,
            $"evaluation left {counter.Scalars} Scalars and {counter.Tensors} Tensors to the finalizer (use Native.KeptScalars, " +
            "scalars held by using and dispose scopes; see KeptScalars' remarks)");
    }

    private static void Run()
    {
        var generator = new Generator(11);
        string[] classes = ["A", "B", "C"];
        long[] trainLabels = Enumerable.Range(0, 30).Select(i => (long)(i % 3)).ToArray();
        long[] testLabels = Enumerable.Range(0, 9).Select(i => (long)(i % 3)).ToArray();
        using var train = new FeatureSet(Clusters(trainLabels, generator), trainLabels, classes, [], FromCache: false);
        using var test = new FeatureSet(Clusters(testLabels, generator), testLabels, classes, [], FromCache: false);
        var options = new LinearProbeOptions { Standardize = true, L2Grid = [1e-3, 1e-1] };
        var empty = LabeledImageSource.FromList("none", classes, []);
        var report = new LinearProbeEvaluator(empty, empty, options).EvaluateFeatures(train, test, "toy", "none");
        if (report.Sweep.Count != 2) throw new InvalidOperationException("the λ sweep did not run");

        using var scope = NewDisposeScope();
        var images = nn.functional.normalize(randn(13, 6, generator: generator), dim: -1);
        var texts = nn.functional.normalize(randn(26, 6, generator: generator), dim: -1);
        _ = RetrievalRecall.Compute(images, texts, Enumerable.Range(0, 26).Select(i => i % 13).ToList(), [1, 5], chunkSize: 5);
    }

    // Three noisy clusters around the axes of a 4-D space, one per label.
    private static Tensor Clusters(long[] labels, Generator generator)
    {
        using var scope = NewDisposeScope();
        var centres = eye(4).narrow(0, 0, 3);
        using var index = tensor(labels);
        using var noise = 0.3.ToScalar();
        return centres.index_select(0, index).add(randn([labels.Length, 4], generator: generator).mul(noise), KeptScalars.One).MoveToOuterDisposeScope();
    }
}
