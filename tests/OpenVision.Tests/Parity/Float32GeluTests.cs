using OpenVision.Layers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The blocks' exact GELU (<c>openvision_erf.h</c>'s rational erf in libtorch's formula h + h·erf(x/√2), h =
/// x/2) against x·Φ(x) in float64, reached through the float32 linear kernel with a weight of one, so that its
/// pre-activations are the inputs exactly.</summary>
public class Float32GeluTests(ITestOutputHelper output)
{
    /// <summary>The float32 GELU's largest error relative to its input: <c>benchmarks/native/gelu_accuracy.c</c> found
    /// 2.10e-7·|x| over every normal float32 in [−12, 12] (libtorch's formula with glibc's erff: 1.08e-7·|x|); beyond,
    /// the clamped erf is ±1 exactly and the result x or 0, whose error is below 1e-30·|x|.</summary>
    public const double Bound = 2.2e-7;

    private static readonly ScalarType F64 = ScalarType.Float64;

    // 2,048 mantissas in each binade from 2⁻⁴⁰ to 2⁸, both signs, and a few huge values; subnormals are left out (there
    // halving x alone loses half of it in either formula).
    private static float[] Inputs()
    {
        var values = new List<float>();
        for (int exponent = 127 - 40; exponent < 127 + 8; exponent++)
            for (int i = 0; i < 2048; i++)
            {
                float magnitude = BitConverter.Int32BitsToSingle((exponent << 23) | (i << 12) | 1234);
                values.Add(magnitude);
                values.Add(-magnitude);
            }
        values.AddRange([1e10f, -1e10f, 1e30f, -1e30f, float.MaxValue / 4, -float.MaxValue / 4]);
        return [.. values];
    }

    [Fact]
    public void TheBlocksGeluIsWithinItsBoundOfTheExactValue()
    {
        if (!Float32Ops.Available) return; // libtorch's operations run (Float32BlockTests says why)
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(Inputs()).reshape(-1, 1);
        var y = Float32Ops.Linear(x, ones(1, 1), null, new PackedWeight(), gelu: true);
        Assert.NotNull(y);
        var x64 = x.to(F64);
        var exact = 0.5 * x64 * special.erfc(-x64 / Math.Sqrt(2));
        double RelativeToInput(Tensor result) => ((result.to(F64) - exact).abs() / x64.abs()).max().item<double>();
        double kernel = RelativeToInput(y!), libtorch = RelativeToInput(nn.functional.gelu(x));
        output.WriteLine($"{Float32Ops.Status}: max |error| / |x| {kernel:E3}, libtorch's GELU {libtorch:E3} ({x.size(0)} inputs)");
        Assert.True(kernel <= Bound, $"GELU error {kernel:E3}·|x| above the bound {Bound:E1}·|x|");
        // Infinities and NaN as libtorch's: +∞ stays, −∞·Φ(−∞) and NaN are NaN.
        var extremes = tensor(new[] { float.PositiveInfinity, float.NegativeInfinity, float.NaN }).reshape(-1, 1);
        var result = Float32Ops.Linear(extremes, ones(1, 1), null, new PackedWeight(), gelu: true)!;
        Assert.Equal(float.PositiveInfinity, result[0, 0].item<float>());
        Assert.True(float.IsNaN(result[1, 0].item<float>()) && float.IsNaN(result[2, 0].item<float>()));
        Assert.True(float.IsNaN(nn.functional.gelu(extremes)[1, 0].item<float>()), "libtorch's GELU of −∞ is NaN too");
    }

    // The AVX2 version runs the same operations in the same order, with a correctly rounded division in both: the same
    // bits wherever the CPU has both instruction sets.
    [Fact]
    public void TheAvx2GeluGivesTheBitsOfTheAvx512One()
    {
        if (Float32BlockTests.OtherAvx2Kernels() is not { } avx2) return; // one instruction set here
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(Inputs()).reshape(-1, 1);
        var wide = Float32Ops.Linear(x, ones(1, 1), null, new PackedWeight(), gelu: true);
        var narrow = Float32Ops.Linear(x, ones(1, 1), null, new PackedWeight(), avx2, gelu: true);
        Assert.True(RandomBlocks.Same(wide!, narrow!));
    }
}
