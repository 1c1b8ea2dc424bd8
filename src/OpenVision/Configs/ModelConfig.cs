using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Configs;

/// <summary>An open_clip CLIP architecture (<c>model_cfg</c>) plus the preprocessing that goes with it.</summary>
public sealed record ModelConfig
{
    /// <summary>Width of the shared image-text embedding space.</summary>
    public int EmbedDim { get; init; } = 512;

    /// <summary>Vision tower.</summary>
    public VisionConfig VisionCfg { get; init; } = new();

    /// <summary>The <c>text_cfg</c> block, or null for a vision-only model (OpenVision 2 releases: an encoder without a
    /// text tower, whose checkpoint holds only the vision tower's keys).</summary>
    [JsonPropertyName("text_cfg")]
    public TextConfig? OptionalTextCfg { get; init; }

    /// <summary>Text tower; throws <see cref="InvalidOperationException"/> naming the model when it is vision-only, so
    /// every path that needs a text tower (text embedding, zero-shot, tokenizer) refuses in one line.</summary>
    [JsonIgnore]
    public TextConfig TextCfg
    {
        get => OptionalTextCfg ?? throw VisionOnlyError(Name);
        init => OptionalTextCfg = value;
    }

    /// <summary>True when the config has no text tower.</summary>
    [JsonIgnore] public bool IsVisionOnly => OptionalTextCfg is null;

    /// <summary>The error for a text-tower operation on a vision-only model.</summary>
    public static InvalidOperationException VisionOnlyError(string model) =>
        new($"model {model} is vision-only: it has no text tower (zero-shot/text embedding need one)");

    /// <summary>QuickGELU (OpenAI CLIP); only false is supported.</summary>
    public bool QuickGelu { get; init; }

    /// <summary>Initial value of <c>logit_scale</c> (log-space); defaults to ln(1/0.07).</summary>
    public double? InitLogitScale { get; init; }

    /// <summary>Initial logit bias (SigLIP); only null is supported.</summary>
    public double? InitLogitBias { get; init; }

    /// <summary>Text tower under <c>text.*</c> (CustomTextCLIP); only false is supported.</summary>
    public bool CustomText { get; init; }

    /// <summary>Keys not recognised; <see cref="Validate"/> refuses them by name.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unrecognized { get; init; }

    /// <summary>How images are prepared for this model (the hub form's <c>preprocess_cfg</c>).</summary>
    [JsonIgnore] public PreprocessConfig Preprocess { get; init; } = PreprocessConfig.OpenVisionDefault;

    /// <summary>Name of the model (registry name, hub id or file), for messages.</summary>
    [JsonIgnore] public string Name { get; init; } = "custom";

    /// <summary>Returns every problem with this config: unknown keys, unsupported values, inconsistent sizes.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        AddUnknown(problems, "", Unrecognized);
        AddUnknown(problems, "vision_cfg.", VisionCfg.Unrecognized);
        AddUnknown(problems, "text_cfg.", OptionalTextCfg?.Unrecognized);
        AddUnknown(problems, "preprocess_cfg.", Preprocess.Unrecognized);

        var v = VisionCfg;
        Require(problems, EmbedDim > 0, "embed_dim must be positive");
        Require(problems, v.Width > 0 && v.Layers > 0 && v.HeadWidth > 0, "vision_cfg width, layers and head_width must be positive");
        Require(problems, v.HeadWidth <= 0 || v.Width % v.HeadWidth == 0, $"vision_cfg.width {v.Width} is not divisible by head_width {v.HeadWidth}");
        Require(problems, v.PatchSize > 0 && v.ImageSize >= v.PatchSize, $"vision_cfg.image_size {v.ImageSize} must be at least patch_size {v.PatchSize}");
        Require(problems, v.MlpRatio > 0, "vision_cfg.mlp_ratio must be positive");
        Require(problems, v.InChannels > 0, "vision_cfg.in_channels must be positive");
        Require(problems, v.PosEmbedType == "learnable", $"vision_cfg.pos_embed_type '{v.PosEmbedType}' is not supported (only 'learnable', a stored table)");
        Require(problems, v.LsInitValue is null, "vision_cfg.ls_init_value (LayerScale) is not supported");
        Require(problems, v.PatchDropout == 0, "vision_cfg.patch_dropout is not supported");
        Require(problems, !v.AttentionalPool, "vision_cfg.attentional_pool is not supported");
        Require(problems, v.ActKwargs is null || v.ActKwargs.IsKnown, $"vision_cfg.act_kwargs.approximate '{v.ActKwargs?.Approximate}' must be '{ActConfig.Exact}' or '{ActConfig.Tanh}'");

        if (OptionalTextCfg is { } t) AddTextProblems(problems, t);
        AddSizeLimits(problems);

        Require(problems, !QuickGelu, "quick_gelu is not supported");
        Require(problems, InitLogitBias is null, "init_logit_bias (SigLIP) is not supported");
        Require(problems, !CustomText, "custom_text is not supported");

        var p = Preprocess;
        Require(problems, p.Mean.Length == v.InChannels && p.Std.Length == v.InChannels, $"preprocess_cfg mean/std need {v.InChannels} values");
        Require(problems, p.Std.All(s => s > 0), "preprocess_cfg.std values must be positive");
        Require(problems, p.ResizeMode is "squash" or "shortest", $"preprocess_cfg.resize_mode '{p.ResizeMode}' is not supported (squash, shortest)");
        Require(problems, p.Interpolation is "bilinear" or "bicubic" or "nearest", $"preprocess_cfg.interpolation '{p.Interpolation}' is not supported (bilinear, bicubic, nearest)");
        return problems;
    }

    /// <summary>Throws <see cref="ConfigException"/> listing every problem, or returns this config.</summary>
    public ModelConfig Validate()
    {
        var problems = Problems();
        return problems.Count == 0 ? this : throw new ConfigException(Name, problems);
    }

    // Upper bounds (ConfigLimits), checked before the positivity rules above matter to an allocation: a width or a
    // layer count of 1e9 must be a message, not a libtorch allocation failure.
    private void AddSizeLimits(List<string> problems)
    {
        var v = VisionCfg;
        var t = OptionalTextCfg;
        AtMost(problems, "embed_dim", EmbedDim, ConfigLimits.MaxWidth);
        AtMost(problems, "vision_cfg.width", v.Width, ConfigLimits.MaxWidth);
        AtMost(problems, "vision_cfg.layers", v.Layers, ConfigLimits.MaxLayers);
        if (v.HeadWidth > 0) AtMost(problems, "vision_cfg heads (width / head_width)", v.Width / v.HeadWidth, ConfigLimits.MaxHeads);
        AtMost(problems, "vision_cfg.mlp_ratio", v.MlpRatio, ConfigLimits.MaxMlpRatio);
        AtMost(problems, "vision_cfg.image_size", v.ImageSize, ConfigLimits.MaxImageSize);
        AtMost(problems, "vision_cfg.in_channels", v.InChannels, ConfigLimits.MaxInChannels);
        if (v.PatchSize > 0 && v.ImageSize >= v.PatchSize && v.ImageSize <= ConfigLimits.MaxImageSize)
            AtMost(problems, $"vision_cfg patch tokens ((image_size / patch_size)² at {v.ImageSize}/{v.PatchSize})", (long)v.GridSize * v.GridSize, ConfigLimits.MaxPatchTokens);
        if (t is not null)
        {
            AtMost(problems, "text_cfg.width", t.Width, ConfigLimits.MaxWidth);
            AtMost(problems, "text_cfg.layers", t.Layers, ConfigLimits.MaxLayers);
            AtMost(problems, "text_cfg.heads", t.Heads, ConfigLimits.MaxHeads);
            AtMost(problems, "text_cfg.mlp_ratio", t.MlpRatio, ConfigLimits.MaxMlpRatio);
            AtMost(problems, "text_cfg.context_length", t.ContextLength, ConfigLimits.MaxContextLength);
            AtMost(problems, "text_cfg.vocab_size", t.VocabSize, ConfigLimits.MaxVocabSize);
        }
        Require(problems, double.IsFinite(v.NormKwargs.Eps) && v.NormKwargs.Eps > 0 && (t is null || double.IsFinite(t.NormKwargs.Eps) && t.NormKwargs.Eps > 0),
            "norm_kwargs.eps must be a positive number");
        // Only when every size is within bounds: the estimate is a product of them (in double, so it cannot overflow).
        if (problems.Count == 0)
        {
            double parameters = EstimateParameters();
            Require(problems, parameters <= ConfigLimits.MaxParameters,
                $"the config describes about {parameters:N0} parameters, over the limit of {ConfigLimits.MaxParameters:N0}");
        }
    }

    private double EstimateParameters()
    {
        var v = VisionCfg;
        var t = OptionalTextCfg;
        static double Block(double w, double mlp) => 12 * w + 4 * w * w + 2 * w * mlp + mlp;
        double vision = (double)v.InChannels * v.PatchSize * v.PatchSize * v.Width + ((double)v.GridSize * v.GridSize + 4) * v.Width
            + v.Layers * Block(v.Width, v.Width * v.MlpRatio) + (double)v.Width * EmbedDim;
        double text = t is null ? 0 : ((double)t.VocabSize + t.ContextLength + 2) * t.Width + t.Layers * Block(t.Width, t.Width * t.MlpRatio) + (double)t.Width * EmbedDim;
        return vision + text;
    }

    private static void AtMost(List<string> problems, string field, double value, double limit)
    {
        if (value > limit || double.IsNaN(value)) problems.Add($"{field} {value:G} is over the limit of {limit:N0}");
    }

    // The record's generated ToString would read TextCfg, which throws for a vision-only model.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Name = {Name}, EmbedDim = {EmbedDim}, VisionCfg = {VisionCfg}, TextCfg = {(OptionalTextCfg?.ToString() ?? "none (vision-only)")}");
        return true;
    }

    private static void AddTextProblems(List<string> problems, TextConfig t)
    {
        Require(problems, t.Width > 0 && t.Layers > 0 && t.Heads > 0, "text_cfg width, layers and heads must be positive");
        Require(problems, t.Heads <= 0 || t.Width % t.Heads == 0, $"text_cfg.width {t.Width} is not divisible by heads {t.Heads}");
        Require(problems, t.ContextLength > 0 && t.VocabSize > 0, "text_cfg context_length and vocab_size must be positive");
        Require(problems, t.PoolType is "last" or "argmax" or "first", $"text_cfg.pool_type '{t.PoolType}' is not supported (last, argmax, first)");
        Require(problems, t.LsInitValue is null, "text_cfg.ls_init_value (LayerScale) is not supported");
        Require(problems, !t.ProjBias, "text_cfg.proj_bias is not supported");
        Require(problems, !t.EmbedCls, "text_cfg.embed_cls is not supported");
        Require(problems, t.ActKwargs is null || t.ActKwargs.IsKnown, $"text_cfg.act_kwargs.approximate '{t.ActKwargs?.Approximate}' must be '{ActConfig.Exact}' or '{ActConfig.Tanh}'");
    }

    private static void AddUnknown(List<string> problems, string prefix, Dictionary<string, JsonElement>? keys)
    {
        if (keys == null) return;
        foreach (var key in keys.Keys) problems.Add($"unknown or unsupported key '{prefix}{key}'");
    }

    private static void Require(List<string> problems, bool condition, string message)
    {
        if (!condition) problems.Add(message);
    }
}
