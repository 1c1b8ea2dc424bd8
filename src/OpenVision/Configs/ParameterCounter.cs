namespace OpenVision.Configs;

/// <summary>Parameter counts worked out from a config alone (reference §1.4), so the largest models can be
/// listed without allocating them. Tests check the formula against built models.</summary>
public static class ParameterCounter
{
    /// <summary>Vision tower (<c>visual.*</c>: conv, class token, positional table, blocks, ln_post, proj).</summary>
    public static long Vision(ModelConfig config)
    {
        var v = config.VisionCfg;
        long w = v.Width, grid = v.GridSize;
        long conv = (long)v.InChannels * v.PatchSize * v.PatchSize * w;
        long lnPre = v.NoLnPre ? 0 : 2 * w;
        return conv + w + (grid * grid + 1) * w + lnPre + v.Layers * Block(w, v.MlpWidth) + 2 * w + w * config.EmbedDim;
    }

    /// <summary>Text tower (token and position embeddings, blocks, ln_final, projection); 0 for a vision-only model.</summary>
    public static long Text(ModelConfig config)
    {
        if (config.OptionalTextCfg is not { } t) return 0;
        long w = t.Width;
        return t.VocabSize * w + t.ContextLength * w + t.Layers * Block(w, t.MlpWidth) + 2 * w + w * config.EmbedDim;
    }

    /// <summary>The whole CLIP: both towers plus <c>logit_scale</c> (a vision-only model has neither of the last two).</summary>
    public static long Total(ModelConfig config) => Vision(config) + Text(config) + (config.IsVisionOnly ? 0 : 1);

    // Two LayerNorms, qkv and output projections with biases, MLP with biases.
    private static long Block(long width, long mlp) => 4 * width + 3 * width * width + 3 * width + width * width + width + 2 * width * mlp + mlp + width;
}
