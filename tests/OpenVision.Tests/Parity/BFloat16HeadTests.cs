using OpenVision.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The bfloat16 head of a vision tower in one native call (<see cref="BFloat16Ops.Head"/>): the pooled token,
/// ln_post and the projection, each rounded once as the operations one by one round them.</summary>
public class BFloat16HeadTests
{
    private static readonly ScalarType BF16 = ScalarType.BFloat16, F32 = ScalarType.Float32, F64 = ScalarType.Float64;

    public static TheoryData<long, long, long, long, bool> Shapes() => new()
    {
        // batch, tokens, width, projection width, average (else the class token)
        { 1, 197, 192, 512, true }, { 3, 50, 72, 33, true }, { 2, 2, 200, 64, true }, { 2, 257, 1152, 1152, true },
        { 1, 197, 192, 512, false }, { 4, 1, 72, 16, false },
    };

    // Small integers: their float32 sums are exact in any order, so the mean is the exact quotient rounded to float32
    // (the division) and then to bfloat16, whatever order the kernel adds in; libtorch's bfloat16 mean must give the
    // same. The layer norm and the projection are the kernels' own (tested in BFloat16OpsTests): bit for bit.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheHeadIsTheRoundedMeanNormedAndProjected(long batch, long tokens, long width, long outputs, bool average)
    {
        if (!BFloat16Ops.Available) return; // BFloat16OpsTests.TheKernelsRunWhereTheCpuHasAvx512Bf16 says why
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(batch * 1009 + tokens * 31 + width + outputs));
        var x = ExactValues.SmallIntegers(generator, 64, 1, batch, tokens, width);
        using var norm = nn.LayerNorm(width, 1e-6);
        norm.weight!.copy_(randn([width], generator: generator));
        norm.bias!.copy_(randn([width], generator: generator));
        norm.to(BF16);
        var projection = randn([width, outputs], generator: generator).div(Math.Sqrt(width)).to(BF16);

        var actual = BFloat16Ops.Head(x, average, norm, 1e-6, projection, new PackedWeight());

        Assert.NotNull(actual);
        Assert.Equal(new[] { batch, outputs }, actual.shape);
        var pooled = average ? (x[.., 1..].to(F64).sum([1]) / (tokens - 1)).to(F32).to(BF16) : x[.., 0];
        var expected = BFloat16Ops.Project(BFloat16Ops.LayerNorm(pooled, norm, 1e-6), projection, new PackedWeight());
        Assert.True(RandomBlocks.Same(expected, actual), $"B {batch}, L {tokens}, W {width}, E {outputs}, average {average}");
        if (average)
        {
            var libtorchMean = x[.., 1..].mean([1]);
            Assert.True(RandomBlocks.Same(pooled, libtorchMean), "libtorch's bfloat16 mean of exact sums");
        }
    }

    // Where the kernels do not apply the caller runs the operations one by one: null, nothing computed.
    [Fact]
    public void TheHeadHandsBackWhereItDoesNotApply()
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var norm = nn.LayerNorm(72, 1e-6);
        norm.to(BF16);
        var x = randn(2, 5, 72).to(BF16);
        var projection = randn(72, 16).to(BF16);
        Assert.Null(BFloat16Ops.Head(x.to(F32), true, norm, 1e-6, projection, new PackedWeight()));      // float32 tokens
        Assert.Null(BFloat16Ops.Head(x, true, norm, 1e-6, projection.to(F32), new PackedWeight()));      // float32 projection
        Assert.Null(BFloat16Ops.Head(x[.., ..1], true, norm, 1e-6, projection, new PackedWeight()));     // nothing to average
        Assert.Null(BFloat16Ops.Head(x, true, norm, 1e-6, randn(16, 72).to(BF16), new PackedWeight()));  // projection [E, W]
        using var odd = nn.LayerNorm(71, 1e-6);
        odd.to(BF16);
        Assert.Null(BFloat16Ops.Head(x[.., .., ..71], true, odd, 1e-6, randn(71, 16).to(BF16), new PackedWeight())); // odd width
        Assert.NotNull(BFloat16Ops.Head(x[.., ..1], false, norm, 1e-6, projection, new PackedWeight())); // the class token alone
    }
}
