using OpenVision.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The fused bfloat16 block (<see cref="BFloat16Ops.Block"/>): one native call must compute exactly what the
/// block's operations compute one by one (each of which <see cref="BFloat16OpsTests"/> bounds against float64), at
/// every tail of tokens, heads and widths, and step aside where it does not apply.</summary>
public class BFloat16BlockTests
{
    private static readonly ScalarType BF16 = ScalarType.BFloat16;

    private static bool Same(Tensor a, Tensor b) => RandomBlocks.Same(a, b);

    private static ResidualAttentionBlock RandomBlock(int width, int heads, int hidden, bool tanhGelu, ulong seed)
    {
        var block = RandomBlocks.Create(width, heads, hidden, tanhGelu, seed);
        block.to(BF16);
        return block;
    }

    public static TheoryData<long, long, int, int, int> Shapes() => new()
    {
        // batch, tokens, width, heads, hidden: ViT-Tiny's block (one image: on two or three threads each takes a run
        // of rows and they share its attention by (head, block of queries) units); one token; token counts past the
        // 8-query and 32-key blocks; head widths 2, 72 and 16; hidden widths that are not a multiple of 32; widths
        // below a panel
        { 1, 197, 192, 3, 768 }, { 2, 1, 64, 1, 256 }, { 3, 33, 144, 2, 288 }, { 1, 50, 32, 16, 70 }, { 2, 65, 64, 4, 132 },
        { 1, 9, 24, 2, 96 },
        // 512 rows or more with small weights: each thread carries its own rows through the block (the other schedule);
        // and 512 rows with weights past 4 MiB, back to the stages split by columns
        { 4, 197, 192, 3, 768 }, { 3, 201, 64, 4, 132 }, { 2, 257, 512, 8, 2048 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OneCallEqualsTheOperationsBitForBit(long batch, long tokens, int width, int heads, int hidden)
    {
        if (!BFloat16Ops.Available) return; // libtorch's operations run (BFloat16OpsTests.TheKernelsRunWhereTheCpuHasAvx512Bf16 says why)
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var block = RandomBlock(width, heads, hidden, tanhGelu: false, seed: (ulong)(tokens * 7 + width));
        var x = randn([batch, tokens, width], generator: new Generator((ulong)hidden)).to(BF16);
        var fused = BFloat16Ops.Block(x, Norm(block, "ln_1"), block.Attention, Norm(block, "ln_2"), block.Mlp, 1e-6);
        Assert.NotNull(fused);
        Assert.True(Same(block.ForwardByOperation(x, null), fused!));
        Assert.True(Same(fused!, block.call(x, null)), "the module's forward runs the fused block");
        // The input is left as it was (the block writes its skip connection into the output, not into x).
        Assert.True(Same(randn([batch, tokens, width], generator: new Generator((ulong)hidden)).to(BF16), x));
    }

    // Each element is one thread's sum in one order in every stage: the thread count must not change a bit.
    [Fact]
    public void TheResultDoesNotDependOnTheThreadCount()
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var block = RandomBlock(192, 3, 768, tanhGelu: false, seed: 3);
        var x = randn([3, 197, 192], generator: new Generator(5)).to(BF16);
        var threaded = block.call(x, null);
        Assert.True(Same(threaded, RandomBlocks.OnOneThread(() => block.call(x, null))));
    }

    // The text tower (tanh GELU, causal mask), float32 and training go through the operations.
    [Fact]
    public void ItStepsAsideWhereItDoesNotApply()
    {
        using var scope = NewDisposeScope();
        var x = randn([2, 5, 64], generator: new Generator(8)).to(BF16);
        using (no_grad())
        {
            using var tanh = RandomBlock(64, 2, 256, tanhGelu: true, seed: 1);
            Assert.Null(BFloat16Ops.Block(x, Norm(tanh, "ln_1"), tanh.Attention, Norm(tanh, "ln_2"), tanh.Mlp, 1e-6));
            using var exact = RandomBlock(64, 2, 256, tanhGelu: false, seed: 2);
            Assert.Null(BFloat16Ops.Block(x.to(ScalarType.Float32), Norm(exact, "ln_1"), exact.Attention, Norm(exact, "ln_2"), exact.Mlp, 1e-6));
        }
        using var trained = RandomBlock(64, 2, 256, tanhGelu: false, seed: 4);
        Assert.Null(BFloat16Ops.Block(x.requires_grad_(), Norm(trained, "ln_1"), trained.Attention, Norm(trained, "ln_2"), trained.Mlp, 1e-6));
        trained.call(x, null).to(ScalarType.Float32).sum().backward();
        Assert.NotNull(x.grad);
    }

    private static TorchSharp.Modules.LayerNorm Norm(ResidualAttentionBlock block, string name) => RandomBlocks.Norm(block, name);
}
