using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>A stack of residual blocks under the key <c>resblocks.N</c>.</summary>
internal sealed class Transformer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<ResidualAttentionBlock> resblocks;
    private BlockParts[]? parts;

    public Transformer(int width, int layers, int heads, int mlpWidth, double eps, bool tanhGelu) : base(nameof(Transformer))
    {
        resblocks = new ModuleList<ResidualAttentionBlock>();
        for (int i = 0; i < layers; i++) resblocks.Add(new ResidualAttentionBlock(width, heads, mlpWidth, eps, tanhGelu));
        RegisterComponents();
    }

    public int Layers => resblocks.Count;

    public IReadOnlyList<ResidualAttentionBlock> Blocks => [.. resblocks];

    public override Tensor forward(Tensor x, Tensor? mask) => ForwardCollecting(x, mask, EmptySet, out _);

    private static readonly IReadOnlySet<int> EmptySet = new HashSet<int>();

    /// <summary>Runs the blocks and also returns the outputs of the blocks whose 0-based index is in <paramref name="layers"/>.</summary>
    public Tensor ForwardCollecting(Tensor x, Tensor? mask, IReadOnlySet<int> layers, out Dictionary<int, Tensor> collected)
    {
        collected = new Dictionary<int, Tensor>();
        // Without a mask and with no block output asked for, the kernels run the whole stack in one call where they
        // apply to every block (the same bits as one call per block).
        if (mask is null && !layers.Any(i => i >= 0 && i < resblocks.Count))
        {
            parts ??= [.. resblocks.Select(block => block.Parts)];
            if ((Float32Ops.Tower(x, parts) ?? BFloat16Ops.Tower(x, parts)) is { } tower) return tower;
        }
        var current = x;
        for (int i = 0; i < resblocks.Count; i++)
        {
            var next = resblocks[i].call(current, mask);
            // Free each block's output as soon as the next one exists (unless the caller keeps it): without this,
            // a large model holds every layer's activations until the caller's dispose scope ends.
            if (!ReferenceEquals(current, x) && !layers.Contains(i - 1)) current.Dispose();
            if (layers.Contains(i)) collected[i] = next;
            current = next;
        }
        return current;
    }
}
