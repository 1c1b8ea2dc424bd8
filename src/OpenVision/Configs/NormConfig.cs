using System.Text.Json.Serialization;

namespace OpenVision.Configs;

/// <summary>open_clip's <c>norm_kwargs</c>: LayerNorm settings.</summary>
/// <param name="Eps">Variance epsilon; OpenVision uses 1e-6 everywhere (upstream open_clip defaults to 1e-5).</param>
public sealed record NormConfig(double Eps = 1e-5);

/// <summary>open_clip's <c>act_kwargs</c>: GELU settings.</summary>
/// <param name="Approximate"><see cref="Exact"/> for exact (erf) GELU, <see cref="Tanh"/> for the tanh approximation.</param>
public sealed record ActConfig(string Approximate = ActConfig.Exact)
{
    /// <summary>PyTorch's <c>approximate="none"</c>: exact (erf) GELU.</summary>
    public const string Exact = "none";

    /// <summary>PyTorch's <c>approximate="tanh"</c>: the tanh approximation (OpenVision's text tower).</summary>
    public const string Tanh = "tanh";

    /// <summary>Whether GELU uses the tanh approximation.</summary>
    [JsonIgnore] public bool IsTanh => Approximate == Tanh;

    /// <summary>Whether <see cref="Approximate"/> is one PyTorch knows.</summary>
    [JsonIgnore] public bool IsKnown => Approximate is Exact or Tanh;
}
