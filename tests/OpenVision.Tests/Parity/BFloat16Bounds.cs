using OpenVision.Configs;

namespace OpenVision.Tests.Parity;

/// <summary>Error bounds for bfloat16 inference derived from the arithmetic (the number of bfloat16 rounding points),
/// so that they hold on every CPU whose kernels are correct, rather than measured on one machine.</summary>
/// <remarks>
/// bfloat16 keeps 8 significant bits: round-to-nearest changes a value x by at most u·|x| with u = 2⁻⁸ ≈ 3.9e-3.
///
/// Kernels (<see cref="Dot"/>). A dot product of K bfloat16 pairs accumulated in float32 (unit roundoff 2⁻²⁴) and
/// rounded to bfloat16 (a second rounding when the bias is added afterwards) satisfies, element by element and for any
/// summation order, |ŷ − y| ≤ (2u + u² + (1 + u)²·γ_{K+1})·(Σ|a_k||b_k| + |bias|), γ_n = n·2⁻²⁴ / (1 − n·2⁻²⁴) (Higham,
/// Accuracy and Stability of Numerical Algorithms, §3.1). A kernel that drops terms or accumulates in bfloat16 breaks it
/// (with positive data the bound is within a factor 2 of |y|).
///
/// Models (<see cref="ImageFeatures"/> etc.). Every rounding point perturbs the residual stream by at most u relative
/// (the branch outputs that feed it are no larger than the stream at these scales: pre-norm blocks, LayerNorm outputs
/// of unit variance, weights of fan-in variance). Per block there are 14: the rounded weights of the four linear maps
/// (in_proj, out_proj, c_fc, c_proj), their four outputs, the outputs of ln_1, attention, ln_2 and GELU, and the two
/// residual sums (LayerNorm, softmax and GELU compute in float32 inside and round once). Roundings are independent and
/// of either sign, so R of them add up like a random walk: relative error ≤ u·√R. This is √3 times the root mean
/// square of R errors uniform in ±u (u·√(R/3)), a margin for the ratio of maxima the tests measure. Entry and exit add
/// their own points: image features 8 (pixels, patch weights, patch embedding, position sum; mean pool, ln_post,
/// projection weights, projection), patch tokens and block outputs 4 (the entry), text features 6 (embedding lookup,
/// position sum; ln_final, pooling, projection weights, projection). The measured errors (docs/bfloat16.md) are
/// 2–8 times below these bounds; the oneDNN fault this project found (channels past the last multiple of 16 of the
/// patch embedding, see <c>VisionTransformer</c>) exceeded it.
///
/// Cosines and logits (<see cref="Cosine"/>). For unit vectors the first-order change of a/‖a‖ is the component of
/// Δa/‖a‖ orthogonal to a, so |Δcos(a, b)| ≤ ε_a + ε_b + ε_a·ε_b; a logit is exp(logit_scale) times a cosine and
/// logit_scale stays float32.
/// </remarks>
public static class BFloat16Bounds
{
    /// <summary>bfloat16 unit roundoff, 2⁻⁸.</summary>
    public const double U = 1.0 / 256;

    /// <summary>float32 unit roundoff, 2⁻²⁴.</summary>
    public const double UFloat32 = 1.0 / (1 << 24);

    /// <summary>Rounding points per residual block (see remarks).</summary>
    public const int RoundingsPerBlock = 14;

    /// <summary>Factor of Σ|a_k||b_k| + |bias| that bounds the error of one dot product of length <paramref name="k"/>.</summary>
    public static double Dot(long k)
    {
        double n = (k + 1) * UFloat32;
        return 2 * U + U * U + (1 + U) * (1 + U) * n / (1 - n);
    }

    /// <summary>Relative error bound after <paramref name="roundings"/> rounding points: u·√R.</summary>
    public static double AfterRoundings(int roundings) => U * Math.Sqrt(roundings);

    /// <summary>Pooled, projected image features.</summary>
    public static double ImageFeatures(VisionConfig vision) => AfterRoundings(RoundingsPerBlock * vision.Layers + 8);

    /// <summary>Last-block patch tokens.</summary>
    public static double ImageTokens(VisionConfig vision) => AfterRoundings(RoundingsPerBlock * vision.Layers + 4);

    /// <summary>Output of vision block <paramref name="blocks"/> − 1 (block −2 is <c>Layers − 1</c> blocks deep).</summary>
    public static double ImageBlock(int blocks) => AfterRoundings(RoundingsPerBlock * blocks + 4);

    /// <summary>Pooled, projected text features.</summary>
    public static double TextFeatures(TextConfig text) => AfterRoundings(RoundingsPerBlock * text.Layers + 6);

    /// <summary>Error in the cosine of an image and a text feature.</summary>
    public static double Cosine(ModelConfig config)
    {
        double image = ImageFeatures(config.VisionCfg), text = TextFeatures(config.TextCfg);
        return image + text + image * text;
    }
}
