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

    public ResidualAttentionBlock(int width, int heads, int mlpWidth, double eps, bool tanhGelu) : base(nameof(ResidualAttentionBlock))
    {
        ln_1 = nn.LayerNorm(width, eps);
        attn = new SelfAttention(width, heads);
        ln_2 = nn.LayerNorm(width, eps);
        mlp = new Mlp(width, mlpWidth, tanhGelu);
        RegisterComponents();
    }

    public SelfAttention Attention => attn;

    public Mlp Mlp => mlp;

    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var scope = torch.NewDisposeScope();
        // Explicit alpha: `x + y` would pass a temporary Scalar (see Native.KeptScalars).
        x = x.add(attn.call(ln_1.call(x), mask), KeptScalars.One);
        x = x.add(mlp.call(ln_2.call(x)), KeptScalars.One);
        return x.MoveToOuterDisposeScope();
    }
}
