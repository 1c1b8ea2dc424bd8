using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Native;

public class TemporaryScalarScanTests
{
    [Fact]
    public void CoreLibraryHandsTorchSharpNoTemporaryScalar()
    {
        var found = TemporaryScalarScan.Find(typeof(OpenVisionModel).Assembly);
        Assert.True(found.Count == 0, "temporary Scalars (hold them: Native.KeptScalars or using var s = value.ToScalar()):\n" + string.Join("\n", found));
    }

    // The scan must recognise each kind of call it is meant to catch, or the empty list above would prove nothing.
    [Fact]
    public void ScanFindsEachKindOfTemporaryScalar()
    {
        var found = TemporaryScalarScan.Find(typeof(TemporaryScalarScanTests).Assembly, m => m.DeclaringType != typeof(Hazards));
        string[] expected = ["op_Addition(Tensor, Tensor)", "op_Multiply(Tensor, Double)", "op_Implicit(Int32)", "add_(Tensor)", "square()", "arange(Scalar, Nullable`1", "ToDouble(Tensor)"];
        foreach (var callee in expected)
            Assert.Contains(found, f => f.Contains(callee, StringComparison.Ordinal));
        Assert.DoesNotContain(found, f => f.Contains(nameof(Hazards.Held), StringComparison.Ordinal));
    }

    private static class Hazards
    {
        public static Tensor Sum(Tensor x) => x + x;
        public static Tensor Half(Tensor x) => x * 0.5;
        public static Tensor Filled(Tensor x, Tensor mask) => x.masked_fill(mask, 1);
        public static Tensor Accumulate(Tensor x) => x.add_(x);
        public static Tensor Squared(Tensor x) => x.square();
        public static Tensor Range() => arange(4);
        public static double Read(Tensor x) => x.ToDouble();

        public static Tensor Held(Tensor x)
        {
            using var half = 0.5.ToScalar();
            return x.mul(half);
        }
    }
}
