using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Configs;

/// <summary>Pooling of the vision tower output (open_clip <c>pool_type</c>).</summary>
public enum VisionPoolType
{
    /// <summary>Mean over patch tokens, class token excluded (OpenVision).</summary>
    Avg,
    /// <summary>The class token.</summary>
    Tok,
}

/// <summary>The <c>vision_cfg</c> block of an open_clip model config.</summary>
public sealed record VisionConfig
{
    /// <summary>Input resolution in pixels (square); JSON may give an int or [h, w] with h == w.</summary>
    [JsonConverter(typeof(SquareSizeConverter))]
    public int ImageSize { get; init; } = 224;

    /// <summary>Patch edge in pixels; pixels beyond the last full patch are ignored, as a stride-P conv does.</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>Transformer width.</summary>
    public int Width { get; init; } = 768;

    /// <summary>Number of residual blocks.</summary>
    public int Layers { get; init; } = 12;

    /// <summary>Width of one attention head; heads = width / head_width.</summary>
    public int HeadWidth { get; init; } = 64;

    /// <summary>MLP hidden size = (int)(width * mlp_ratio), truncated as Python's int() does.</summary>
    public double MlpRatio { get; init; } = 4.0;

    /// <summary>True when there is no LayerNorm before the blocks (OpenVision).</summary>
    public bool NoLnPre { get; init; }

    /// <summary>Pooling of the final tokens.</summary>
    [JsonConverter(typeof(PoolTypeConverter))]
    public VisionPoolType PoolType { get; init; } = VisionPoolType.Tok;

    /// <summary>True when ln_post is applied to the pooled vector rather than to all tokens (OpenVision).</summary>
    public bool FinalLnAfterPool { get; init; }

    /// <summary>LayerNorm settings.</summary>
    public NormConfig NormKwargs { get; init; } = new();

    /// <summary>Activation settings; null means exact GELU.</summary>
    public ActConfig? ActKwargs { get; init; }

    /// <summary>Image channels (3 for RGB).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Only "learnable" (a stored table) is supported; OpenVision stores a fixed 2-D sin-cos table there.</summary>
    public string PosEmbedType { get; init; } = "learnable";

    /// <summary>LayerScale init; only null (no LayerScale) is supported.</summary>
    public double? LsInitValue { get; init; }

    /// <summary>Fraction of patches dropped in training; only 0 is supported.</summary>
    public double PatchDropout { get; init; }

    /// <summary>Attentional pooling; only false is supported.</summary>
    public bool AttentionalPool { get; init; }

    /// <summary>Whether the Python model returns tokens too; accepted for compatibility, tokens are always available here.</summary>
    public bool OutputTokens { get; init; }

    /// <summary>Keys not recognised; <see cref="ModelConfig.Validate"/> refuses them by name.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unrecognized { get; init; }

    /// <summary>Attention heads.</summary>
    [JsonIgnore] public int Heads => Width / HeadWidth;

    /// <summary>MLP hidden width.</summary>
    [JsonIgnore] public int MlpWidth => (int)(Width * MlpRatio);

    /// <summary>Patches per side at <see cref="ImageSize"/>.</summary>
    [JsonIgnore] public int GridSize => ImageSize / PatchSize;

    /// <summary>Tokens through the blocks at <see cref="ImageSize"/>: the patches and the class token.</summary>
    [JsonIgnore] public int Tokens => GridSize * GridSize + 1;
}
