using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>The transformer MLP: <c>c_proj(gelu(c_fc(x)))</c>, keys <c>mlp.c_fc.*</c> and <c>mlp.c_proj.*</c>.</summary>
internal sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear c_fc, c_proj;
    private readonly bool tanhGelu;
    private readonly PackedWeight fcPacked = new(), projPacked = new();

    public Mlp(int width, int hidden, bool tanhGelu) : base(nameof(Mlp))
    {
        c_fc = nn.Linear(width, hidden);
        c_proj = nn.Linear(hidden, width);
        this.tanhGelu = tanhGelu;
        RegisterComponents();
    }

    public Linear Fc => c_fc;

    public Linear Proj => c_proj;

    /// <summary>Exact (erf) GELU, as the vision tower uses; otherwise the tanh approximation.</summary>
    internal bool ExactGelu => !tanhGelu;

    internal PackedWeight FcPacked => fcPacked;

    internal PackedWeight ProjPacked => projPacked;

    public override Tensor forward(Tensor x) => Forward(x, residual: null);

    /// <summary>The MLP's output, plus <paramref name="residual"/> when given (the block's skip connection, fused into
    /// c_proj where the bfloat16 kernels run).</summary>
    public Tensor Forward(Tensor x, Tensor? residual)
    {
        // OpenVision: exact (erf) GELU in the vision tower, tanh GELU in the text tower and decoder. The exact one is
        // computed inside c_fc where the bfloat16 kernels run.
        using var activated = tanhGelu ? TanhGelu(BFloat16Ops.Linear(x, c_fc.weight!, c_fc.bias, fcPacked))
                                       : BFloat16Ops.Linear(x, c_fc.weight!, c_fc.bias, fcPacked, gelu: true);
        return BFloat16Ops.Linear(activated, c_proj.weight!, c_proj.bias, projPacked, residual);
    }

    private static Tensor TanhGelu(Tensor hidden)
    {
        using (hidden) return nn.functional.gelu(hidden, GELU.Approximate.tanh);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fcPacked.Dispose();
            projPacked.Dispose();
        }
        base.Dispose(disposing);
    }
}
