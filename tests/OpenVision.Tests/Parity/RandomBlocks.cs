using OpenVision.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>What the fused-block tests share: seeded random blocks, their layer norms, bitwise comparison and
/// single-thread runs.</summary>
internal static class RandomBlocks
{
    /// <summary>A block with seeded random parameters (biases and layer-norm affines away from their zero/one
    /// initialisation, so that each is used), weights of fan-in variance as in a trained ViT, in float32.</summary>
    public static ResidualAttentionBlock Create(int width, int heads, int hidden, bool tanhGelu, ulong seed) =>
        Randomized(new ResidualAttentionBlock(width, heads, hidden, 1e-6, tanhGelu), seed);

    /// <summary>A stack of such blocks (exact GELU).</summary>
    public static Transformer CreateStack(int width, int heads, int hidden, int layers, ulong seed) =>
        Randomized(new Transformer(width, layers, heads, hidden, 1e-6, tanhGelu: false), seed);

    private static T Randomized<T>(T module, ulong seed) where T : nn.Module
    {
        var generator = new Generator(seed);
        using (no_grad())
            foreach (var (name, parameter) in module.named_parameters())
            {
                bool isNorm = name.Contains("ln_");
                double scale = isNorm ? 0.2 : 1 / Math.Sqrt(parameter.shape[^1]);
                using var values = randn(parameter.shape, generator: generator) * scale + (isNorm && name.EndsWith("weight") ? 1 : 0);
                parameter.copy_(values);
            }
        module.eval();
        return module;
    }

    /// <summary>Same shape, element type and bits.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    /// <summary>The result of <paramref name="call"/> with libtorch's thread count set to one, restored after it.</summary>
    public static Tensor OnOneThread(Func<Tensor> call) => OnThreads(1, call);

    /// <summary>The result of <paramref name="call"/> with libtorch's thread count set to <paramref name="count"/>,
    /// restored after it.</summary>
    public static Tensor OnThreads(int count, Func<Tensor> call)
    {
        int threads = get_num_threads();
        set_num_threads(count);
        try
        {
            return call();
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    public static TorchSharp.Modules.LayerNorm Norm(ResidualAttentionBlock block, string name) =>
        (TorchSharp.Modules.LayerNorm)block.named_children().Single(child => child.name == name).module;
}
