namespace OpenVision.Configs;

/// <summary>open_clip's <c>norm_kwargs</c>: LayerNorm settings.</summary>
/// <param name="Eps">Variance epsilon; OpenVision uses 1e-6 everywhere (upstream open_clip defaults to 1e-5).</param>
public sealed record NormConfig(double Eps = 1e-5);

/// <summary>open_clip's <c>act_kwargs</c>: GELU settings.</summary>
/// <param name="Approximate">"none" for exact (erf) GELU, "tanh" for the tanh approximation.</param>
public sealed record ActConfig(string Approximate = "none");
