using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The reference's tolerance measure: max |actual − expected| / max |expected|.</summary>
public static class Tolerance
{
    /// <summary>fp32 parity bound stated in the reference README.</summary>
    public const double Float32 = 1e-4;

    /// <summary>fp64 parity bound stated in the reference README.</summary>
    public const double Float64 = 1e-9;

    public static double RelativeError(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var a = actual.to(ScalarType.Float64);
        using var e = expected.to(ScalarType.Float64);
        using var diff = (a - e).abs().max();
        using var scale = e.abs().max();
        return diff.item<double>() / Math.Max(scale.item<double>(), 1e-300);
    }

    public static void AssertClose(Tensor actual, Tensor expected, double bound, string what)
    {
        double error = RelativeError(actual, expected);
        Assert.True(error <= bound, $"{what}: relative error {error:E3} exceeds {bound:E0}");
    }
}
