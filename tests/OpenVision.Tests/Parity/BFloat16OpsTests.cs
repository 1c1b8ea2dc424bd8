using OpenVision.Layers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The AVX512-BF16 linear kernels (<see cref="BFloat16Ops"/>): they must run wherever the CPU has the
/// instructions, round exactly once to nearest even, cover every tail of rows and columns, and hand back to libtorch
/// where they do not apply. The reference-shape bound checks are in <see cref="BFloat16KernelTests"/>.</summary>
public class BFloat16OpsTests(ITestOutputHelper output)
{
    private static readonly ScalarType BF16 = ScalarType.BFloat16, F64 = ScalarType.Float64;

    private static bool CpuHasFlag(string flag) =>
        File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(line => line.StartsWith("flags") && line.Split(' ').Contains(flag));

    private static bool CpuHasBFloat16Instructions() => CpuHasFlag("avx512_bf16");

    private static bool Same(Tensor a, Tensor b) => RandomBlocks.Same(a, b);

    private static bool ShimBuilt() => File.Exists(Path.Combine(AppContext.BaseDirectory, BFloat16Ops.ShimFileName));

    // A CPU with the instructions and a built shim must use them: a silent fallback would lose the speed unnoticed and
    // turn every other test here into a test of libtorch.
    [Fact]
    public void TheKernelsRunWhereTheCpuHasAvx512Bf16()
    {
        bool amx = CpuHasFlag("amx_bf16");
        output.WriteLine($"{BFloat16Ops.Status}; CPU has avx512_bf16: {CpuHasBFloat16Instructions()}, amx_bf16: {amx}; shim built: {ShimBuilt()}");
        // Where the CPU has AMX, libtorch's oneDNN multiplies bfloat16 tiles faster than vdpbf16ps can: it runs instead.
        bool expected = CpuHasBFloat16Instructions() && !amx && ShimBuilt() && Environment.GetEnvironmentVariable("OPENVISION_BF16_KERNELS") != "0";
        Assert.True(expected == BFloat16Ops.Available, BFloat16Ops.Status);
        if (amx && ShimBuilt()) Assert.Contains("AMX", BFloat16Ops.Status);
    }

    // bench's bf16 peak: 64 FLOPs per vdpbf16ps, 16 per round; nothing where the kernels are absent.
    [Fact]
    public void ThePeakLoopCountsItsFlops() =>
        Assert.Equal(BFloat16Ops.Available ? 1000L * 16 * 64 : 0, BFloat16Ops.PeakLoop(1000));

    public static TheoryData<long, long, long, bool> Shapes() => new()
    {
        // rows: below, at and past the 8-row tile, a ViT's 197; columns: below, past and between the 32-column panels
        { 1, 2, 1, true }, { 7, 72, 31, true }, { 8, 64, 32, false }, { 9, 96, 33, true }, { 197, 192, 576, true },
        { 17, 768, 269, false }, { 200, 3072, 72, true }, { 3, 30, 100, true },
    };

    // Small integers are exact in bfloat16 and their float32 sums are exact, so the only rounding is the final one:
    // the result must equal the float64 result rounded to nearest even, bit for bit.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void OneRoundingToNearestEven(long rows, long inputs, long outputs, bool hasBias)
    {
        if (!BFloat16Ops.Available) return; // libtorch's kernel runs (TheKernelsRunWhereTheCpuHasAvx512Bf16 says why)
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(rows * 131 + inputs * 7 + outputs));
        var x = ExactValues.SmallIntegers(generator, 8, 1, 2, rows, inputs);
        var w = ExactValues.SmallIntegers(generator, 8, 1, outputs, inputs);
        var b = hasBias ? ExactValues.SmallIntegers(generator, 512, 0.25, outputs) : null;
        var actual = BFloat16Ops.Linear(x, w, b, new PackedWeight());
        Assert.Equal(new long[] { 2, rows, outputs }, actual.shape);
        var exact = nn.functional.linear(x.to(F64), w.to(F64), b?.to(F64));
        Assert.True(exact.abs().max().item<double>() < 1 << 24, "sums must stay exact in float32");
        var expected = exact.to(ScalarType.Float32).to(BF16); // exact in float32, then one rounding to nearest even
        Assert.True(Same(expected, actual), $"[{rows}×{inputs}]·[{inputs}×{outputs}]: max |difference| {(expected.to(F64) - actual.to(F64)).abs().max().item<double>()}");
    }

    // A tower's projection x · P ([K, N], packed from its transpose): the same single rounding of exact sums, libtorch's
    // matmul where the operands are not bfloat16, and the new values after an in-place change of P.
    [Theory]
    [InlineData(1, 192, 192)]
    [InlineData(3, 72, 33)]
    [InlineData(2, 1152, 1152)]
    public void TheProjectionIsOneRoundingOfExactSums(long rows, long inputs, long outputs)
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(rows * 17 + inputs + outputs));
        var x = ExactValues.SmallIntegers(generator, 8, 1, rows, inputs);
        var projection = ExactValues.SmallIntegers(generator, 8, 1 / 8.0, inputs, outputs);
        using var cache = new PackedWeight();
        var actual = BFloat16Ops.Project(x, projection, cache);
        var exact = x.to(F64).matmul(projection.to(F64));
        Assert.True(exact.abs().max().item<double>() < 1 << 21, "sums must stay exact in float32");
        Assert.True(Same(exact.to(ScalarType.Float32).to(BF16), actual), $"[{rows}×{inputs}]·[{inputs}×{outputs}]");
        var x32 = x.to(ScalarType.Float32);
        Assert.True(Same(x32.matmul(projection.to(ScalarType.Float32)), BFloat16Ops.Project(x32, projection.to(ScalarType.Float32), new PackedWeight())));
        projection.copy_(ExactValues.SmallIntegers(generator, 8, 1 / 8.0, inputs, outputs));
        Assert.True(Same(x.to(F64).matmul(projection.to(F64)).to(ScalarType.Float32).to(BF16), BFloat16Ops.Project(x, projection, cache)), "after an in-place change");
    }

    // The skip connection is added to the float32 sum before the one rounding: with small integers still exact.
    [Theory]
    [InlineData(197, 192, 576)]
    [InlineData(9, 72, 33)]
    public void TheResidualIsAddedBeforeTheRounding(long rows, long inputs, long outputs)
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(rows + inputs));
        var x = ExactValues.SmallIntegers(generator, 8, 1, 2, rows, inputs);
        var w = ExactValues.SmallIntegers(generator, 8, 1, outputs, inputs);
        var b = ExactValues.SmallIntegers(generator, 64, 1, outputs);
        var residual = ExactValues.SmallIntegers(generator, 4096, 0.5, 2, rows, outputs);
        var actual = BFloat16Ops.Linear(x, w, b, new PackedWeight(), residual);
        var expected = (nn.functional.linear(x.to(F64), w.to(F64), b.to(F64)) + residual.to(F64)).to(ScalarType.Float32).to(BF16);
        Assert.True(Same(expected, actual));
    }

    // Exact GELU inside the linear layer: the pre-activations are exact (multiples of 1/64), the float32 GELU (within
    // Float32GeluTests.Bound·|z| of z·Φ(z), its rounding included) and the one rounding (u·|y|) bound the error. It is
    // libtorch's formula z/2 + z/2·erf(z/√2), which cancels for z far below zero as libtorch's does.
    [Theory]
    [InlineData(197, 64, 256)]
    [InlineData(9, 72, 33)]
    public void GeluIsComputedBeforeTheRounding(long rows, long inputs, long outputs)
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(rows * 3 + outputs));
        var x = ExactValues.SmallIntegers(generator, 8, 1 / 4.0, rows, inputs);
        var w = ExactValues.SmallIntegers(generator, 8, 1 / 16.0, outputs, inputs);
        var b = ExactValues.SmallIntegers(generator, 32, 1 / 8.0, outputs);
        var actual = BFloat16Ops.Linear(x, w, b, new PackedWeight(), gelu: true);
        var z = nn.functional.linear(x.to(F64), w.to(F64), b.to(F64));
        // Φ through erfc, accurate in float64 for negative z too.
        var exact = 0.5 * z * special.erfc(-z / Math.Sqrt(2));
        double u = BFloat16Bounds.U;
        var geluError = Float32GeluTests.Bound * z.abs();
        var bound = u * exact.abs() + (1 + u) * geluError + 1e-38;
        AssertWithinBound(actual, exact, bound, $"[{rows}×{inputs}]·[{inputs}×{outputs}] + GELU, pre-activations {z.min().item<double>():F2}..{z.max().item<double>():F2}");
        // Sharper: wherever the exact value is farther from a bfloat16 rounding boundary than the float32 GELU's error,
        // the result must be the exact value rounded once, bit for bit.
        var below = (exact - geluError).to(ScalarType.Float32).to(BF16);
        var above = (exact + geluError).to(ScalarType.Float32).to(BF16);
        var decided = below.eq(above);
        long mismatched = decided.logical_and(actual.ne(below)).sum().item<long>();
        long checkedCount = decided.sum().item<long>();
        output.WriteLine($"GELU: {mismatched} of {checkedCount} clear-cut values not the exact rounding");
        // Below z ≈ −3 the float32 GELU's absolute error nears the bfloat16 spacing of z·Φ(z), as libtorch's does; above,
        // nearly every value must be clear-cut.
        var aboveTail = z.gt(-3);
        long aboveTailCount = aboveTail.sum().item<long>(), aboveTailChecked = decided.logical_and(aboveTail).sum().item<long>();
        Assert.True(aboveTailChecked > aboveTailCount * 9 / 10, $"only {aboveTailChecked} of {aboveTailCount} values above z = −3 are clear of a rounding boundary");
        Assert.Equal(0, mismatched);
        // libtorch's path (the kernels off for these tensors: float32) gives linear then GELU.
        var x32 = x.to(ScalarType.Float32);
        Assert.True(Same(nn.functional.gelu(nn.functional.linear(x32, w.to(ScalarType.Float32), b.to(ScalarType.Float32))),
            BFloat16Ops.Linear(x32, w.to(ScalarType.Float32), b.to(ScalarType.Float32), new PackedWeight(), gelu: true)));
    }

    public static TheoryData<long, long, double> NormShapes() => new()
    {
        // rows, width, a common offset of every row (large against the spread: a one-pass variance would cancel)
        { 394, 192, 0 }, { 1, 768, 0 }, { 7, 72, 0 }, { 5, 1, 0 }, { 33, 768, 64 },
    };

    // Against float64 on the same bfloat16 inputs: the float32 statistics move each output by at most ε·(|γ·x̂| + |β|)
    // with ε = (2W + 16)·2⁻²⁴ (sums of W terms, a few more operations), and the one rounding adds u·|y|.
    [Theory]
    [MemberData(nameof(NormShapes))]
    public void LayerNormIsWithinItsBound(long rows, long width, double offset)
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(rows * 7 + width));
        var x = (randn([rows, width], generator: generator) + offset).to(BF16);
        using var norm = nn.LayerNorm(width, 1e-6);
        norm.weight!.copy_(randn([width], generator: generator));
        norm.bias!.copy_(randn([width], generator: generator));
        norm.to(BF16);
        var actual = BFloat16Ops.LayerNorm(x, norm, 1e-6);
        var x64 = x.to(F64);
        var centred = x64 - x64.mean([-1], keepdim: true);
        var normalised = centred / (centred.square().mean([-1], keepdim: true) + 1e-6).sqrt();
        var scaled = normalised * norm.weight!.to(F64);
        var exact = scaled + norm.bias!.to(F64);
        double epsilon = (2 * width + 16) / (double)(1 << 24), u = BFloat16Bounds.U;
        var bound = (1 + u) * epsilon * (scaled.abs() + norm.bias!.to(F64).abs()) + u * exact.abs() + 1e-30;
        AssertWithinBound(actual, exact, bound, $"layer norm, rows {rows}, width {width}, offset {offset}");
    }

    // Ties must go to even: 257 lies halfway between the bfloat16 neighbours 256 and 258, 259 between 258 and 260;
    // 255 is exact.
    [Fact]
    public void HalfwayCasesRoundToEven()
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(new float[] { 1, 1 }).reshape(1, 2).to(BF16);
        var w = tensor(new float[] { 256, 1, 256, 3, 256, -1 }).reshape(3, 2).to(BF16);
        var actual = BFloat16Ops.Linear(x, w, null, new PackedWeight()).to(ScalarType.Float32).data<float>().ToArray();
        Assert.Equal(new float[] { 256, 260, 255 }, actual);
    }

    // The kernels round with the CPU's conversion, which flushes denormals to zero and gives x86's negative default NaN;
    // those lanes must still come out as c10::BFloat16 rounds them. Products p = 2^-63·(1 + a/128) · 2^-63·(1 + b/128)
    // are exact and normal, and the skip connection is added in float32 before the rounding: p − 2^-126 is
    // (128a + 128b + ab)·2^-140, a float32 denormal with bits below bfloat16's steps of 2^-133 (a = b = 8: a tie).
    // −∞ + ∞ gives NaN; the other columns are normal; all of them share vectors.
    [Fact]
    public void DenormalAndNaNOutputsRoundAsC10Does()
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        const int rows = 10, outputs = 40;
        var random = new Random(11);
        float Tiny(int steps) => MathF.ScaleB(1 + steps / 128f, -63);
        float[] xs = Enumerable.Range(0, rows).Select(i => Tiny(i == 0 ? 8 : random.Next(40))).ToArray();
        float[] ws = new float[outputs], bias = new float[outputs], skip = new float[outputs];
        for (int j = 0; j < outputs; j++)
            (ws[j], bias[j], skip[j]) = (j % 3) switch
            {
                0 => (Tiny(j == 0 ? 8 : random.Next(40)), 0f, -MathF.ScaleB(1, -126)),
                1 => (0f, random.Next(-4, 5), 1f),
                _ => (0f, float.NegativeInfinity, float.PositiveInfinity),
            };
        var x = zeros(rows, 2);
        x[TensorIndex.Colon, 0] = tensor(xs);
        x[rows - 1, 1] = tensor(float.NaN);
        var w = zeros(outputs, 2);
        w[TensorIndex.Colon, 0] = tensor(ws);
        var actual = BFloat16Ops.Linear(x.to(BF16), w.to(BF16), tensor(bias).to(BF16), new PackedWeight(),
            tensor(skip).expand(rows, outputs).to(BF16).contiguous());
        float[] sums = Enumerable.Range(0, rows * outputs)
            .Select(e => (e / outputs, e % outputs))
            .Select(at => at.Item1 == rows - 1 ? float.NaN : bias[at.Item2] + xs[at.Item1] * ws[at.Item2] + skip[at.Item2]).ToArray();
        Assert.True(sums.Count(float.IsSubnormal) >= rows * 10 && sums.Any(float.IsNaN), "the sums must include denormals and NaN");
        uint[] expected = sums.Select(s => (uint)C10Round(s) << 16).ToArray();
        // bfloat16 → float32 puts the 16 bits on top, NaN's included.
        uint[] bits = actual.to(ScalarType.Float32).contiguous().data<float>().Select(BitConverter.SingleToUInt32Bits).ToArray();
        Assert.Equal(expected, bits);
    }

    // c10::BFloat16's rounding of a float: to nearest even on the bits, NaN → 0x7FC0.
    private static ushort C10Round(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    [Fact]
    public void NonFiniteInputsPropagate()
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = ones(4, 64, dtype: BF16);
        x[1, 5] = tensor(float.NaN);
        x[2, 7] = tensor(float.PositiveInfinity);
        var w = ones(40, 64, dtype: BF16);
        var y = BFloat16Ops.Linear(x, w, null, new PackedWeight()).to(ScalarType.Float32);
        Assert.True(y[0].eq(64).all().item<bool>());
        Assert.True(y[1].isnan().all().item<bool>());
        Assert.True(y[2].isposinf().all().item<bool>());
        Assert.True(y[3].eq(64).all().item<bool>());
    }

    // Each output element is one thread's sum in one order: the thread count must not change a bit.
    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(4);
        var x = randn([3, 197, 384], generator: generator).to(BF16);
        var w = randn([1536, 384], generator: generator).to(BF16);
        var b = randn([1536], generator: generator).to(BF16);
        var cache = new PackedWeight();
        Assert.True(Same(BFloat16Ops.Linear(x, w, b, cache), OnOneThread(() => BFloat16Ops.Linear(x, w, b, cache))));
    }

    // Every element within its own bound: max(|actual − exact| − bound) ≤ 0.
    private void AssertWithinBound(Tensor actual, Tensor exact, Tensor bound, string what)
    {
        var error = (actual.to(F64) - exact).abs();
        double worst = (error - bound).max().item<double>();
        output.WriteLine($"{what}: max |error| {error.max().item<double>():E2}, max (|error| - bound) {worst:E2}");
        Assert.True(worst <= 0, $"{what}: exceeds its bound by {worst:E3}");
    }

    private static Tensor OnOneThread(Func<Tensor> run) => RandomBlocks.OnOneThread(run);

    // A cache follows the weight's storage: a different weight tensor is packed anew.
    [Fact]
    public void ANewWeightTensorIsPackedAgain()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(6);
        var x = randint(-4, 5, [5, 64], generator: generator).to(BF16);
        var cache = new PackedWeight();
        foreach (int seed in new[] { 1, 2 })
        {
            var w = randint(-4, 5, [48, 64], generator: new Generator((ulong)seed)).to(BF16);
            var actual = BFloat16Ops.Linear(x, w, null, cache);
            Assert.True(Same(nn.functional.linear(x.to(F64), w.to(F64)).to(BF16), actual), $"weight {seed}");
        }
    }

    public static TheoryData<long, long, int, long> AttentionShapes() => new()
    {
        // batch, tokens, heads, head width: a ViT's 197 tokens; one token; odd counts past the 8-query and 32-key
        // blocks; head widths below, at and past the 32-dimension panels
        { 2, 197, 3, 64 }, { 1, 1, 2, 64 }, { 2, 7, 3, 32 }, { 1, 50, 2, 72 }, { 3, 33, 1, 2 }, { 1, 65, 4, 16 },
    };

    // Against float64 on the same bfloat16 inputs. Each output is Σ p̃·v / Σ p̃ with p̃ = exp(score − max): rounding p̃ to
    // bfloat16 moves each term by u relative, float32 scores move p̃ by at most exp(2δ) (δ: the scores' float32 dot-product
    // bound), exp and the float32 sums by a few 1e-7, the final rounding adds u·|o|. So |ô − o| ≤ (u + 2δ + ε)·(M + |o|)
    // + u·|o| with M = Σ p·|v| / Σ p and ε = 1e-5 covering exp and the sums.
    [Theory]
    [MemberData(nameof(AttentionShapes))]
    public void AttentionIsWithinItsBound(long batch, long tokens, int heads, long headWidth)
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long width = heads * headWidth;
        var qkv = randn([batch, tokens, 3 * width], generator: new Generator((ulong)(tokens * 31 + headWidth))).to(BF16);
        var actual = BFloat16Ops.Attention(qkv, heads);
        Assert.NotNull(actual);
        Assert.Equal(new long[] { batch, tokens, width }, actual!.shape);
        var split = qkv.to(F64).view(batch, tokens, 3, heads, headWidth).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (split[0], split[1], split[2]);
        double scale = 1 / Math.Sqrt(headWidth);
        var p = (q.matmul(k.transpose(-1, -2)) * scale).softmax(-1);
        var exact = p.matmul(v).transpose(1, 2).reshape(batch, tokens, width);
        var magnitude = p.matmul(v.abs()).transpose(1, 2).reshape(batch, tokens, width);
        double delta = (q.abs().matmul(k.abs().transpose(-1, -2)) * scale).max().item<double>() * BFloat16Bounds.UFloat32 * (headWidth + 1);
        double u = BFloat16Bounds.U;
        var bound = (u + 2 * delta + 1e-5) * (magnitude + exact.abs()) + u * exact.abs();
        AssertWithinBound(actual, exact, bound, $"attention, B {batch}, L {tokens}, H {heads}, hd {headWidth} (δ {delta:E2})");
    }

    [Fact]
    public void AttentionDoesNotDependOnTheThreadCount()
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var qkv = randn([3, 197, 3 * 192], generator: new Generator(12)).to(BF16);
        Assert.True(Same(BFloat16Ops.Attention(qkv, 3)!, OnOneThread(() => BFloat16Ops.Attention(qkv, 3)!)));
    }

    // load_state_dict copies into the same storage: the sampled values change, so the weight is packed anew.
    [Fact]
    public void AnInPlaceLoadIsPackedAgain()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(7);
        var x = randint(-4, 5, [5, 64], generator: generator).to(BF16);
        var w = randint(-4, 5, [48, 64], generator: generator).to(BF16);
        var b = randint(-4, 5, [48], generator: generator).to(BF16);
        var cache = new PackedWeight();
        BFloat16Ops.Linear(x, w, b, cache);
        w.copy_(randint(-4, 5, [48, 64], generator: generator).to(BF16));
        Assert.True(Same(nn.functional.linear(x.to(F64), w.to(F64), b.to(F64)).to(BF16), BFloat16Ops.Linear(x, w, b, cache)), "weight loaded in place");
        b.copy_(randint(-4, 5, [48], generator: generator).to(BF16));
        Assert.True(Same(nn.functional.linear(x.to(F64), w.to(F64), b.to(F64)).to(BF16), BFloat16Ops.Linear(x, w, b, cache)), "bias loaded in place");
    }

    // Where the kernels do not apply, libtorch's linear runs: float32, odd inputs, and whenever autograd records.
    [Fact]
    public void LibtorchRunsWhereTheKernelsDoNotApply()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(8);
        var x32 = randn([6, 10], generator: generator);
        var w32 = randn([12, 10], generator: generator);
        using (no_grad())
            Assert.True(Same(nn.functional.linear(x32, w32), BFloat16Ops.Linear(x32, w32, null, new PackedWeight())));
        var xOdd = randn([6, 11], generator: generator).to(BF16);
        var wOdd = randn([12, 11], generator: generator).to(BF16);
        using (no_grad())
            Assert.True(Same(nn.functional.linear(xOdd, wOdd), BFloat16Ops.Linear(xOdd, wOdd, null, new PackedWeight())));
        var residual = randn([6, 12], generator: generator);
        using (no_grad())
            Assert.True(Same(residual + nn.functional.linear(x32, w32), BFloat16Ops.Linear(x32, w32, null, new PackedWeight(), residual)));
        var w = randn([12, 10], generator: generator).to(BF16).requires_grad_();
        var y = BFloat16Ops.Linear(x32.to(BF16), w, null, new PackedWeight());
        y.sum().backward();
        Assert.NotNull(w.grad);
    }
}
