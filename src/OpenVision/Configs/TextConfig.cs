using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Configs;

/// <summary>The <c>text_cfg</c> block of an open_clip model config.</summary>
public sealed record TextConfig
{
    /// <summary>Tokens per text; the whole positional table is added, so inputs must have exactly this length.</summary>
    public int ContextLength { get; init; } = 77;

    /// <summary>Rows of the token embedding (OpenVision: 32000, of which 30522 are used).</summary>
    public int VocabSize { get; init; } = 49408;

    /// <summary>Transformer width.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 8;

    /// <summary>Number of residual blocks.</summary>
    public int Layers { get; init; } = 12;

    /// <summary>MLP hidden size = (int)(width * mlp_ratio).</summary>
    public double MlpRatio { get; init; } = 4.0;

    /// <summary>Pooling: "last" (OpenVision: position ctx-1 holds [CLS]), "argmax" (OpenAI CLIP: the EOT token) or "first".</summary>
    public string PoolType { get; init; } = "argmax";

    /// <summary>True for a bidirectional text tower (OpenVision); false applies a causal mask.</summary>
    public bool NoCausalMask { get; init; }

    /// <summary>Hugging Face tokenizer name; "bert-base-uncased" selects the OpenVision WordPiece layout.</summary>
    public string? HfTokenizerName { get; init; }

    /// <summary>Tokenizer options; OpenVision's <c>strip_sep_token</c> has no effect on its tokenizer.</summary>
    public Dictionary<string, JsonElement>? TokenizerKwargs { get; init; }

    /// <summary>LayerNorm settings.</summary>
    public NormConfig NormKwargs { get; init; } = new();

    /// <summary>Activation settings; OpenVision's text tower uses tanh GELU.</summary>
    public ActConfig? ActKwargs { get; init; }

    /// <summary>Padding id; only used by argmax pooling variants.</summary>
    public int PadId { get; init; }

    /// <summary>LayerScale init; only null is supported.</summary>
    public double? LsInitValue { get; init; }

    /// <summary>Bias on text_projection; only false is supported.</summary>
    public bool ProjBias { get; init; }

    /// <summary>Learned class embedding appended to the text; only false is supported.</summary>
    public bool EmbedCls { get; init; }

    /// <summary>Whether the Python model returns tokens too; accepted for compatibility.</summary>
    public bool OutputTokens { get; init; }

    /// <summary>Keys not recognised; <see cref="ModelConfig.Validate"/> refuses them by name.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unrecognized { get; init; }

    /// <summary>MLP hidden width.</summary>
    [JsonIgnore] public int MlpWidth => (int)(Width * MlpRatio);
}
