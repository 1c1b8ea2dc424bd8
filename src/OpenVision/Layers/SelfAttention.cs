using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>Multi-head self-attention with PyTorch <c>nn.MultiheadAttention</c>'s parameter layout
/// (<c>in_proj_weight</c> [3D, D] with rows Q, K, V; <c>out_proj</c>).</summary>
internal sealed class SelfAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Parameter in_proj_weight, in_proj_bias;
    private readonly Linear out_proj;
    private readonly int heads;
    private readonly PackedWeight inPacked = new(), outPacked = new();

    public SelfAttention(int width, int heads) : base(nameof(SelfAttention))
    {
        this.heads = heads;
        in_proj_weight = nn.Parameter(torch.empty(3 * width, width));
        in_proj_bias = nn.Parameter(torch.zeros(3 * width));
        out_proj = nn.Linear(width, width);
        // PyTorch's MultiheadAttention._reset_parameters: xavier_uniform in_proj, zero biases.
        using (torch.no_grad())
        {
            nn.init.xavier_uniform_(in_proj_weight);
            out_proj.bias!.zero_();
        }
        RegisterComponents();
    }

    public Parameter InProjWeight => in_proj_weight;

    public Linear OutProj => out_proj;

    internal Parameter InProjBias => in_proj_bias;

    internal int Heads => heads;

    internal PackedWeight InProjPacked => inPacked;

    internal PackedWeight OutProjPacked => outPacked;

    /// <param name="x">[B, L, D]</param>
    /// <param name="mask">Additive float mask broadcastable to [B, H, L, L], or null for full attention.</param>
    public override Tensor forward(Tensor x, Tensor? mask) => Forward(x, mask, residual: null);

    /// <summary>The attention output, plus <paramref name="residual"/> when given (the block's skip connection, fused
    /// into out_proj where the bfloat16 kernels run).</summary>
    public Tensor Forward(Tensor x, Tensor? mask, Tensor? residual)
    {
        using var scope = torch.NewDisposeScope();
        var qkv = BFloat16Ops.Linear(x, in_proj_weight, in_proj_bias, inPacked); // [B, L, 3D]
        var merged = (mask is null ? BFloat16Ops.Attention(qkv, heads) : null) ?? Attend(qkv, heads, mask);
        return BFloat16Ops.Linear(merged, out_proj.weight!, out_proj.bias, outPacked, residual).MoveToOuterDisposeScope();
    }

    /// <summary>libtorch's attention of qkv [B, L, 3D] (q, k, v of each head side by side): [B, L, D], heads merged.</summary>
    internal static Tensor Attend(Tensor qkv, int heads, Tensor? mask)
    {
        long batch = qkv.size(0), length = qkv.size(1), width = qkv.size(2) / 3;
        using var split = qkv.view(batch, length, 3, heads, width / heads).permute(2, 0, 3, 1, 4); // [3, B, H, L, hd]
        using var q = split[0];
        using var k = split[1];
        using var v = split[2];
        using var attended = nn.functional.scaled_dot_product_attention(q, k, v, mask); // [B, H, L, hd]
        using var transposed = attended.transpose(1, 2);
        return transposed.reshape(batch, length, width);                                // heads concatenated in order
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inPacked.Dispose();
            outPacked.Dispose();
        }
        base.Dispose(disposing);
    }
}
