using TorchSharp;
using TorchSharp.Modules;

namespace OpenVision.Training.Optimization;

/// <summary>OpenVision's optimizer settings (<c>optim/build_optax.py</c>, <c>configs/openvision.py</c>):
/// <c>chain(scale_by_adam(b1, b2, eps), add_decayed_weights(wd, kernels), scale(lr), scale_by_schedule, scale(-1))</c>.</summary>
/// <remarks>That chain updates p ← p − lr·(m̂ / (√v̂ + eps) + wd·p) with lr the scheduled rate; PyTorch's (and
/// TorchSharp's) AdamW does p ← p·(1 − lr·wd) then p ← p − lr·m̂ / (√v̂ + eps), which is the same update, so
/// <see cref="Create"/> uses TorchSharp's AdamW with the decay on the kernel group only. Differences kept on purpose:
/// moments stay in the parameters' dtype (JAX: <c>mu_dtype=bfloat16</c>); there is no gradient clipping, as in OpenVision.</remarks>
public sealed record AdamWConfig
{
    /// <summary>First-moment decay (0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Second-moment decay (OpenVision: 0.95).</summary>
    public double Beta2 { get; init; } = 0.95;

    /// <summary>Added to √v̂ (1e-8).</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay on kernels, multiplied by the scheduled lr (OpenVision: 0.2).</summary>
    public double WeightDecay { get; init; } = 0.2;

    /// <summary>An AdamW over the decayed and not-decayed groups (frozen parameters are left out).</summary>
    /// <param name="groups">The parameters, from <see cref="ParamGroups.Split(TorchSharp.torch.nn.Module)"/>.</param>
    /// <param name="learningRate">Initial lr of both groups; set it before each step with <see cref="OptimizerSteps.SetLearningRate"/>.</param>
    public AdamW Create(ParamGroups groups, double learningRate = 0)
    {
        var decayed = new AdamW.ParamGroup(groups.Decayed.Select(p => p.Parameter), learningRate, Beta1, Beta2, Eps, WeightDecay);
        var notDecayed = new AdamW.ParamGroup(groups.NotDecayed.Select(p => p.Parameter), learningRate, Beta1, Beta2, Eps, weight_decay: 0);
        return torch.optim.AdamW([decayed, notDecayed], learningRate, Beta1, Beta2, Eps);
    }
}
