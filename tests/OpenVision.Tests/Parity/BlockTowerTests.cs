using OpenVision.Layers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>A stack of vision blocks in one native call (<see cref="Float32Ops.Tower"/>, <see cref="BFloat16Ops.Tower"/>):
/// threads go on to the next block without waiting for the others where they own their rows, so the test is that every
/// schedule gives the bits of the blocks called one at a time, on two and three threads, run after run.</summary>
public class BlockTowerTests(ITestOutputHelper output)
{
    public static TheoryData<string, long, long, int, int, int> Shapes() => new()
    {
        // element type, batch, tokens, width, heads, hidden: one ViT-Ti image (rows per thread, every thread's queries
        // reading the image's keys and values); three images (rows spanning images; a thread's keys and values are read
        // by another thread's attention while it may already write the next block's, hence two qkv buffers by turns);
        // ViT-B-sized blocks (stages split by columns, a barrier between blocks); ViT-S-sized blocks at 600 rows (bf16:
        // 3.5 MB of weights, split by rows; fp32: 7 MB, split by columns); 24 images of 25 tokens (at least eight
        // images per thread on two and three threads: rows claimed in runs that cut images apart)
        { "float32", 24, 25, 192, 3, 768 }, { "bfloat16", 24, 25, 192, 3, 768 },
        { "float32", 1, 197, 192, 3, 768 }, { "float32", 3, 197, 192, 3, 768 }, { "float32", 2, 50, 768, 12, 3072 },
        { "bfloat16", 1, 197, 192, 3, 768 }, { "bfloat16", 3, 197, 192, 3, 768 }, { "bfloat16", 2, 50, 768, 12, 3072 },
        { "bfloat16", 6, 100, 384, 6, 1536 }, { "float32", 6, 100, 384, 6, 1536 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AStackInOneCallGivesTheBitsOfOneCallPerBlock(string type, long batch, long tokens, int width, int heads, int hidden)
    {
        bool bfloat16 = type == "bfloat16";
        if (!(bfloat16 ? BFloat16Ops.Available : Float32Ops.Available)) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var stack = RandomBlocks.CreateStack(width, heads, hidden, layers: 4, seed: (ulong)(batch * 31 + width));
        var dtype = bfloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        if (bfloat16) stack.to(dtype);
        var x = randn([batch, tokens, width], generator: new Generator(11)).to(dtype);
        var parts = stack.Blocks.Select(block => block.Parts).ToArray();
        Assert.NotNull(bfloat16 ? BFloat16Ops.Tower(x, parts) : Float32Ops.Tower(x, parts));
        foreach (int threads in new[] { 2, 3 })
        {
            var oneByOne = RandomBlocks.OnThreads(threads, () => stack.Blocks.Aggregate(x, (current, block) => block.call(current, null)));
            for (int run = 0; run < 6; run++)
                Assert.True(RandomBlocks.Same(oneByOne, RandomBlocks.OnThreads(threads, () => stack.call(x, null))), $"{threads} threads, run {run}");
            // Asking for a block's output runs the blocks one at a time: the same final bits.
            var collected = RandomBlocks.OnThreads(threads, () => stack.ForwardCollecting(x, null, new HashSet<int> { 1 }, out _));
            Assert.True(RandomBlocks.Same(oneByOne, collected));
        }
        output.WriteLine($"{type} [{batch}, {tokens}, {width}]: 4 blocks in one call match one call per block on 2 and 3 threads");
    }

    // A block that does not fit (here the last, with tanh GELU) sends the whole stack through one call per block.
    [Fact]
    public void OneBlockThatDoesNotFitStopsTheStack()
    {
        if (!Float32Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var stack = RandomBlocks.CreateStack(64, 2, 256, layers: 2, seed: 5);
        using var tanh = RandomBlocks.Create(64, 2, 256, tanhGelu: true, seed: 6);
        var x = randn([1, 9, 64], generator: new Generator(12));
        Assert.Null(Float32Ops.Tower(x, [.. stack.Blocks.Select(block => block.Parts), tanh.Parts]));
        Assert.Null(Float32Ops.Tower(x, []));
    }
}
