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
    private readonly BFloat16Linear.PackedWeight inPacked = new(), outPacked = new();

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

    /// <param name="x">[B, L, D]</param>
    /// <param name="mask">Additive float mask broadcastable to [B, H, L, L], or null for full attention.</param>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        long batch = x.shape[0], length = x.shape[1], width = x.shape[2];
        using var scope = torch.NewDisposeScope();
        var qkv = BFloat16Linear.Forward(x, in_proj_weight, in_proj_bias, inPacked) // [B, L, 3D]
            .view(batch, length, 3, heads, width / heads)
            .permute(2, 0, 3, 1, 4);                                              // [3, B, H, L, hd]
        var attended = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], mask); // [B, H, L, hd]
        var merged = attended.transpose(1, 2).reshape(batch, length, width);      // heads concatenated in order
        return BFloat16Linear.Forward(merged, out_proj.weight!, out_proj.bias, outPacked).MoveToOuterDisposeScope();
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
