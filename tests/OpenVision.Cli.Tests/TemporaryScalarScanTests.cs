using System.Reflection;
using OpenVision.Tests.Native;

namespace OpenVision.Cli.Tests;

/// <summary>The libraries the CLI ships, scanned as the core library is (see TemporaryScalarScan).</summary>
public class TemporaryScalarScanTests
{
    // These run only inside a training step, which holds the collector off (Native.CollectorPause): the losses, the
    // training models' forward and backward, exact accumulation and the gradient buckets' all-reduce.
    private static bool InsideTrainingStep(MethodBase method)
    {
        string type = method.DeclaringType?.FullName ?? "";
        return type.StartsWith("OpenVision.Training.Losses.", StringComparison.Ordinal)
            || type.StartsWith("OpenVision.Training.Models.", StringComparison.Ordinal)
            || type.StartsWith("OpenVision.Training.ExactAccumulation", StringComparison.Ordinal)
            || type.StartsWith("OpenVision.Training.Distributed.TensorBuffers", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OpenVision.Search")]
    [InlineData("OpenVision.Serving")]
    [InlineData("OpenVision.Onnx")]
    [InlineData("OpenVision.Training")]
    [InlineData("OpenVision.Cli")]
    public void LibraryHandsTorchSharpNoTemporaryScalar(string assemblyName)
    {
        var found = TemporaryScalarScan.Find(Assembly.Load(assemblyName), InsideTrainingStep);
        Assert.True(found.Count == 0, $"{assemblyName}: temporary Scalars (hold them: Native.KeptScalars or using var s = value.ToScalar()):\n" + string.Join("\n", found));
    }
}
