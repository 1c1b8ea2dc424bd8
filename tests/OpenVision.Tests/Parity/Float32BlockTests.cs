using OpenVision.Layers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The float32 vision block in one native call (<see cref="Float32Ops.Block"/>): at every tail of tokens,
/// heads and widths it must agree with the same block computed in float64 at least as closely as libtorch's float32
/// operations do, give a row the same bits whatever it is batched with and however many threads run it, and step aside
/// where it does not apply.</summary>
public class Float32BlockTests(ITestOutputHelper output)
{
    private static readonly ScalarType F64 = ScalarType.Float64;

    private static bool Same(Tensor a, Tensor b) => RandomBlocks.Same(a, b);

    [Fact]
    public void TheKernelsRunWhereTheCpuHasAvx512OrAvx2()
    {
        var flags = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? []
            : [];
        bool avx512 = flags.Contains("avx512f"), avx2 = flags.Contains("avx2") && flags.Contains("fma");
        string? variable = Environment.GetEnvironmentVariable("OPENVISION_F32_KERNELS");
        bool wide = avx512 && variable != "avx2" && OpenVision.Native.NativeLibraries.FindShipped(Float32Ops.ShimFileName) is not null;
        bool narrow = !wide && avx2 && OpenVision.Native.NativeLibraries.FindShipped(Float32Ops.Avx2ShimFileName) is not null;
        output.WriteLine($"{Float32Ops.Status}; CPU has avx512f: {avx512}, avx2 and fma: {avx2}");
        Assert.True((variable != "0" && (wide || narrow)) == Float32Ops.Available, Float32Ops.Status);
        if (Float32Ops.Available) Assert.Equal(wide ? "AVX-512 float32 kernels" : "AVX2 float32 kernels", Float32Ops.Status);
        Assert.True(avx2 == (Float32Ops.Avx2Kernels is not null) || variable == "0", "the AVX2 kernels load wherever the CPU has AVX2 and FMA");
    }

    private static ResidualAttentionBlock RandomBlock(int width, int heads, int hidden, bool tanhGelu, ulong seed) =>
        RandomBlocks.Create(width, heads, hidden, tanhGelu, seed);

    public static TheoryData<long, long, int, int, int> Shapes() => new()
    {
        // batch, tokens, width, heads, hidden: ViT-Tiny's and ViT-Base's blocks; one token; token counts past the
        // 8-query and 32-key blocks; head widths 72 and 80 (So400m, Huge), 24 and 1; hidden widths that are not a
        // multiple of 32; widths below a 16-lane vector
        { 1, 197, 192, 3, 768 }, { 1, 197, 768, 12, 3072 }, { 2, 1, 64, 1, 256 }, { 3, 33, 144, 2, 288 }, { 1, 50, 144, 2, 70 },
        { 2, 65, 160, 2, 132 }, { 1, 9, 24, 1, 96 }, { 2, 17, 48, 2, 40 }, { 1, 5, 7, 7, 9 },
        // 512 rows or more with small weights: each thread carries its own rows through the block (the other schedule;
        // ViT-Ti's single image above takes it too on two or three threads, sharing its attention by units)
        { 4, 197, 192, 3, 768 }, { 3, 201, 64, 4, 132 },
    };

    // Both float32 paths are measured against float64 arithmetic on the same values (the reference's measure, max |Δ| /
    // max |y|). They round the same operations in different orders (both sum in blocks of k), so their errors are of one
    // size: 1.0e-7 to 2.8e-7 for the kernel, 1.1e-7 to 4.1e-7 for libtorch on a Zen 4. The kernel may be at most 3 times
    // libtorch's plus 1e-7 (one float32 rounding of the largest output: a dropped term or a coarse exponential or GELU
    // would be orders of magnitude more; one chain of 3072 terms was 3.7 times), and below 1e-6, a hundredth of the
    // reference's float32 parity bound.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void OneCallAgreesWithFloat64AsCloselyAsLibtorch(long batch, long tokens, int width, int heads, int hidden)
    {
        if (!Float32Ops.Available) return; // libtorch's operations run (TheKernelsRunWhereTheCpuHasAvx512OrAvx2 says why)
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var block = RandomBlock(width, heads, hidden, tanhGelu: false, seed: (ulong)(tokens * 7 + width));
        var x = randn([batch, tokens, width], generator: new Generator((ulong)hidden));
        var fused = Float32Ops.Block(x, Norm(block, "ln_1"), block.Attention, Norm(block, "ln_2"), block.Mlp, 1e-6);
        Assert.NotNull(fused);
        var libtorch = block.ForwardByOperation(x, null);
        Assert.True(Same(fused!, block.call(x, null)), "the module's forward runs the fused block");
        block.to(F64);
        var exact = block.ForwardByOperation(x.to(F64), null);
        double kernelError = Tolerance.RelativeError(fused!, exact), libtorchError = Tolerance.RelativeError(libtorch, exact);
        output.WriteLine($"[{batch}, {tokens}, {width}] heads {heads} hidden {hidden}: {Float32Ops.Status} {kernelError:E2}, libtorch {libtorchError:E2}");
        Assert.True(kernelError <= 3 * libtorchError + 1e-7 && kernelError < 1e-6, $"kernel error {kernelError:E2} against libtorch's {libtorchError:E2}");
        // Where the model runs the AVX-512 kernels and the CPU has AVX2 too, the AVX2 kernels (which serve CPUs without
        // AVX-512) are held to the same bound on the same block.
        if (OtherAvx2Kernels() is { } avx2)
        {
            block.to(ScalarType.Float32);
            var narrow = Float32Ops.Tower(x, [new BlockParts(Norm(block, "ln_1"), block.Attention, Norm(block, "ln_2"), block.Mlp, 1e-6)], avx2);
            Assert.NotNull(narrow);
            double narrowError = Tolerance.RelativeError(narrow!, exact);
            output.WriteLine($"  AVX2 float32 kernels {narrowError:E2}");
            Assert.True(narrowError <= 3 * libtorchError + 1e-7 && narrowError < 1e-6, $"AVX2 kernel error {narrowError:E2} against libtorch's {libtorchError:E2}");
        }
        // The input is left as it was (the block writes its skip connection into the output, not into x).
        Assert.True(Same(randn([batch, tokens, width], generator: new Generator((ulong)hidden)), x));
    }

    /// <summary>The AVX2 kernels where the model runs the AVX-512 ones (CPUs with both); null elsewhere, where the tests
    /// already run whichever the model uses.</summary>
    internal static Float32Ops.Kernels? OtherAvx2Kernels() => Float32Ops.Status == "AVX-512 float32 kernels" ? Float32Ops.Avx2Kernels : null;

    // The two libraries' linear layers run every chunk of KC = 128 terms of a sum from zero in k's order and add the
    // chunks to the bias in order, 8 lanes at a time or 16: the same operations on each element, so the same bits (k
    // here spans three chunks, n three panels with a partial one, m a partial tile).
    [Fact]
    public void TheAvx2LinearLayersGiveTheBitsOfTheAvx512Ones()
    {
        if (OtherAvx2Kernels() is not { } avx2) return; // one instruction set here: the tests above cover it
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn([37, 300], generator: new Generator(11));
        var weight = randn([70, 300], generator: new Generator(12));
        var bias = randn([70], generator: new Generator(13));
        using PackedWeight wide = new(), narrow = new();
        var avx512 = Float32Ops.Linear(x, weight, bias, wide);
        var avx2Result = Float32Ops.Linear(x, weight, bias, narrow, avx2);
        Assert.NotNull(avx512);
        Assert.True(Same(avx512!, avx2Result!));
    }

    // Each output element is one sum in one order in every stage, whichever thread computes it and whichever schedule
    // splits the work (rows per thread from 512 rows, or for ViT-Ti-sized blocks from 8 blocks of 8 queries per thread;
    // stages split by columns otherwise): the batch and the thread count must not change a bit.
    [Fact]
    public void ARowGetsTheSameBitsInAnyBatchAndOnAnyNumberOfThreads()
    {
        if (!Float32Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var block = RandomBlock(192, 3, 768, tanhGelu: false, seed: 3);
        // Seventeen images of 100 tokens: 1,700 rows, past MaxRows, which ViT-Ti-sized blocks (under SmallBlockBytes)
        // still run in the kernels; on two threads, eight images or more each, so most rows are claimed in runs that cut
        // images apart. One image has 13 blocks of queries: on two or more threads its stages split by columns.
        var x = randn([17, 100, 192], generator: new Generator(5));
        var batched = block.call(x, null);
        var alone = cat(Enumerable.Range(0, 17).Select(i => block.call(x[i..(i + 1)], null)).ToArray(), 0);
        Assert.True(Same(batched, alone), "a batch of seventeen (rows per thread) against seventeen single images (stages split by columns)");
        Assert.True(Same(batched, RandomBlocks.OnOneThread(() => block.call(x, null))));
        // A single 197-token image has 25 blocks of queries: on two or three threads they share its attention by
        // (head, block) units and take equal runs of rows; in a batch of three, or on one thread, each thread has whole
        // images.
        var three = randn([3, 197, 192], generator: new Generator(6));
        var single = block.call(three[..1], null);
        Assert.True(Same(block.call(three, null)[..1], single), "one ViT-Ti image alone against the same image in a batch of three");
        Assert.True(Same(single, RandomBlocks.OnOneThread(() => block.call(three[..1], null))));
    }

    // The packed weights follow the module's: after an in-place load (load_state_dict copies into the same storage) and
    // after an optimizer's in-place step, the block computes with the new values, as a fresh block of them does.
    [Fact]
    public void ItComputesWithTheWeightsAsTheyAreNow()
    {
        if (!Float32Ops.Available) return;
        using var scope = NewDisposeScope();
        var x = randn([1, 33, 64], generator: new Generator(6));
        using var block = RandomBlock(64, 2, 256, tanhGelu: false, seed: 7);
        using var other = RandomBlock(64, 2, 256, tanhGelu: false, seed: 8);
        using (no_grad())
        {
            var before = block.call(x, null);
            block.load_state_dict(other.state_dict());
            Assert.True(Same(other.call(x, null), block.call(x, null)), "after load_state_dict");
            Assert.False(Same(before, block.call(x, null)));
        }
        block.train();
        using var optimizer = optim.SGD(block.parameters(), 0.01);
        block.call(x, null).square().sum().backward();
        optimizer.step();
        block.eval();
        using (no_grad())
        {
            using var stepped = RandomBlock(64, 2, 256, tanhGelu: false, seed: 9);
            stepped.load_state_dict(block.state_dict());
            Assert.True(Same(stepped.call(x, null), block.call(x, null)), "after an optimizer step");
        }
    }

    // The text tower (tanh GELU, causal mask), other element types, large blocks' batches past MaxRows and training go
    // through the operations.
    [Fact]
    public void ItStepsAsideWhereItDoesNotApply()
    {
        using var scope = NewDisposeScope();
        var x = randn([2, 5, 64], generator: new Generator(8));
        using (no_grad())
        {
            using var tanh = RandomBlock(64, 2, 256, tanhGelu: true, seed: 1);
            Assert.Null(Float32Ops.Block(x, Norm(tanh, "ln_1"), tanh.Attention, Norm(tanh, "ln_2"), tanh.Mlp, 1e-6));
            using var exact = RandomBlock(64, 2, 256, tanhGelu: false, seed: 2);
            Assert.Null(Float32Ops.Block(x.to(ScalarType.BFloat16), Norm(exact, "ln_1"), exact.Attention, Norm(exact, "ln_2"), exact.Mlp, 1e-6));
            // Blocks of more than SmallBlockBytes of weights take up to MaxRows rows (libtorch's cache-blocked GEMMs were
            // as fast beyond); smaller ones any number.
            using var large = RandomBlock(512, 8, 2048, tanhGelu: false, seed: 3);
            Assert.True(4L * (4 * 512 * 512 + 2 * 512 * 2048) > Float32Ops.SmallBlockBytes);
            var many = randn([Float32Ops.MaxRows / 5 + 1, 5, 512], generator: new Generator(9));
            Assert.Null(Float32Ops.Block(many, Norm(large, "ln_1"), large.Attention, Norm(large, "ln_2"), large.Mlp, 1e-6));
            if (Float32Ops.Available)
            {
                Assert.NotNull(Float32Ops.Block(many[..(int)(Float32Ops.MaxRows / 5)], Norm(large, "ln_1"), large.Attention, Norm(large, "ln_2"), large.Mlp, 1e-6));
                var manySmall = randn([Float32Ops.MaxRows / 5 + 1, 5, 64], generator: new Generator(10));
                Assert.NotNull(Float32Ops.Block(manySmall, Norm(exact, "ln_1"), exact.Attention, Norm(exact, "ln_2"), exact.Mlp, 1e-6));
            }
            exact.to(F64);
            Assert.Null(Float32Ops.Block(x.to(F64), Norm(exact, "ln_1"), exact.Attention, Norm(exact, "ln_2"), exact.Mlp, 1e-6));
        }
        using var trained = RandomBlock(64, 2, 256, tanhGelu: false, seed: 4);
        Assert.Null(Float32Ops.Block(x.requires_grad_(), Norm(trained, "ln_1"), trained.Attention, Norm(trained, "ln_2"), trained.Mlp, 1e-6));
        trained.call(x, null).sum().backward();
        Assert.NotNull(x.grad);
    }

    // What bench --libtorch-ops asks before it compares: ViT-Ti's blocks (1.8 MB of weights) at any batch, ViT-B/16's
    // (28 MB) up to 5 images (1,024 rows), none where the kernels are off.
    [Fact]
    public void RunsBlocksSaysWhichBatchesTheKernelsTake()
    {
        var tiny = OpenVision.Configs.ModelRegistry.Get("openvision-vit-tiny-patch16-224").VisionCfg;
        var vitBase = OpenVision.Configs.ModelRegistry.Get("openvision-vit-base-patch16-224").VisionCfg;
        bool on = Float32Ops.Available;
        Assert.Equal([on, on, on, on, false, false],
            new[] { (tiny, 1), (tiny, 32), (vitBase, 1), (vitBase, 5), (vitBase, 6), (vitBase, 32) }
                .Select(c => OpenVision.Native.Float32Kernels.RunsBlocks(c.Item1, c.Item2)));
    }

    private static TorchSharp.Modules.LayerNorm Norm(ResidualAttentionBlock block, string name) => RandomBlocks.Norm(block, name);
}
