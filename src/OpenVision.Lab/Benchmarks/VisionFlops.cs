using OpenVision.Configs;

namespace OpenVision.Lab.Benchmarks;

/// <summary>Floating-point operations of one image through the vision tower (multiply-add = 2 FLOPs), for
/// reporting the fraction of the machine's peak a configuration reaches.</summary>
public static class VisionFlops
{
    /// <summary>FLOPs per image at <paramref name="imageSize"/> pixels (config size when null).</summary>
    public static double PerImage(ModelConfig config, int? imageSize = null)
    {
        var v = config.VisionCfg;
        double grid = (imageSize ?? v.ImageSize) / v.PatchSize, tokens = grid * grid + 1, w = v.Width, m = v.MlpWidth;
        double patchEmbed = 2 * grid * grid * (v.InChannels * v.PatchSize * v.PatchSize) * w;
        double perBlock = 2 * tokens * (3 * w * w + w * w + 2 * w * m)   // qkv, output projection, MLP
                        + 2 * 2 * tokens * tokens * w;                   // q·kᵀ and attention·v
        return patchEmbed + v.Layers * perBlock + 2 * w * config.EmbedDim;
    }

    /// <summary>FLOPs per text through the text tower.</summary>
    public static double PerText(ModelConfig config)
    {
        var t = config.TextCfg;
        double l = t.ContextLength, w = t.Width, m = t.MlpWidth;
        return t.Layers * (2 * l * (4 * w * w + 2 * w * m) + 4 * l * l * w) + 2 * w * config.EmbedDim;
    }
}
