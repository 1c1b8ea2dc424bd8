using OpenVision.Configs;
using OpenVision.Lab.Benchmarks;
using OpenVision.Models;
using OpenVision.Native;
using static TorchSharp.torch;

namespace OpenVision.Lab.Tests.Benchmarks;

// Float32Ops.UseLibtorchOperations is process-wide: while it times libtorch's side, a float32 model in a test running
// beside it would take libtorch's operations too. So this test runs alone.
[CollectionDefinition(nameof(LibtorchOpsComparisonTests), DisableParallelization = true)]
public class LibtorchOpsComparisonCollection;

/// <summary><c>bench --libtorch-ops</c>: the default float32 path and libtorch's operations timed in one run, their
/// features compared, the ratio summarised, and the kernels in use again afterwards.</summary>
[Collection(nameof(LibtorchOpsComparisonTests))]
public class LibtorchOpsComparisonTests
{
    [Fact]
    public void BothPathsAreTimedComparedAndTheKernelsComeBack()
    {
        using var model = new OpenVisionModel(ModelRegistry.Get("openvision-vit-tiny-patch16-224"));
        model.eval();
        using var pixels = randn(1, 3, 224, 224, generator: new Generator(1));
        using var before = model.EncodeImage(pixels);
        var (kernels, libtorch) = EncodeBenchmark.ImagesAgainstLibtorchOps(model, 1, TimeSpan.FromSeconds(0.05));
        Assert.Equal((EncodeBenchmark.KernelsTask, "Float32", 1), (kernels.Task, kernels.DType, kernels.BatchSize));
        Assert.Equal((EncodeBenchmark.LibtorchOpsTask, "Float32", 1), (libtorch.Task, libtorch.DType, libtorch.BatchSize));
        Assert.All(new[] { kernels, libtorch }, row => Assert.True(row.ItemsPerSecond > 0 && double.IsFinite(row.ItemsPerSecond)));
        // Two float32 computations of the same features: apart by round-off where the kernels run, identical where not.
        double difference = libtorch.RelativeErrorVsFloat32!.Value;
        if (Float32Kernels.Available) Assert.InRange(difference, 1e-9, 1e-5);
        else Assert.Equal(0, difference);
        using var after = model.EncodeImage(pixels);
        Assert.True(before.eq(after).all().item<bool>(), "the default path runs as before the comparison");
        Assert.Contains(BenchmarkSummary.Lines([kernels, libtorch]), line => line.Contains("fp32 kernels/libtorch ops"));
    }
}
