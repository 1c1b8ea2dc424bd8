using OpenVision.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>Pre-norm transformer block (open_clip <c>ResidualAttentionBlock</c>): keys ln_1, attn, ln_2, mlp.</summary>
internal sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly LayerNorm ln_1, ln_2;
    private readonly SelfAttention attn;
    private readonly Mlp mlp;
    private readonly double eps;

    public ResidualAttentionBlock(int width, int heads, int mlpWidth, double eps, bool tanhGelu) : base(nameof(ResidualAttentionBlock))
    {
        ln_1 = nn.LayerNorm(width, eps);
        attn = new SelfAttention(width, heads);
        ln_2 = nn.LayerNorm(width, eps);
        mlp = new Mlp(width, mlpWidth, tanhGelu);
        this.eps = eps;
        RegisterComponents();
    }

    public SelfAttention Attention => attn;

    public Mlp Mlp => mlp;

    /// <summary>The modules as the kernel libraries take them.</summary>
    public BlockParts Parts => new(ln_1, attn, ln_2, mlp, eps);

    public override Tensor forward(Tensor x, Tensor? mask)
    {
        // A float32 or bfloat16 vision block runs as one native call where the kernels apply (the same operations in
        // float32 with other summation orders, or the same arithmetic for bfloat16).
        if (mask is null && (Float32Ops.Block(x, ln_1, attn, ln_2, mlp, eps) ?? BFloat16Ops.Block(x, ln_1, attn, ln_2, mlp, eps)) is { } fused)
            return fused;
        return ForwardByOperation(x, mask);
    }

    /// <summary>The block one operation at a time (each through the bfloat16 kernels where they apply).</summary>
    internal Tensor ForwardByOperation(Tensor x, Tensor? mask)
    {
        using var scope = torch.NewDisposeScope();
        // The skip connections go into the sublayers, which add them (in float32 inside the bfloat16 kernels, otherwise
        // as x.add(y, 1)).
        x = attn.Forward(BFloat16Ops.LayerNorm(x, ln_1, eps), mask, residual: x);
        x = mlp.Forward(BFloat16Ops.LayerNorm(x, ln_2, eps), residual: x);
        return x.MoveToOuterDisposeScope();
    }
}
