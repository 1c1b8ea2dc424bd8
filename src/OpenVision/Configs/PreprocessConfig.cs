using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Configs;

/// <summary>The <c>preprocess_cfg</c> block of an OpenVision hub config: how images become model input.</summary>
public sealed record PreprocessConfig
{
    /// <summary>Per-channel mean (RGB), applied after scaling to [0, 1].</summary>
    public double[] Mean { get; init; } = [0.48145466, 0.4578275, 0.40821073];

    /// <summary>Per-channel standard deviation (RGB).</summary>
    public double[] Std { get; init; } = [0.26862954, 0.26130258, 0.27577711];

    /// <summary>Resampling filter: "bilinear" (OpenVision) or "bicubic".</summary>
    public string Interpolation { get; init; } = "bicubic";

    /// <summary>"squash" (resize to S×S, no crop; OpenVision), "shortest" (shorter side to S, centre crop) or "longest".</summary>
    public string ResizeMode { get; init; } = "shortest";

    /// <summary>Fill value for "longest" padding.</summary>
    public int FillColor { get; init; }

    /// <summary>Input size; normally taken from the vision config.</summary>
    [JsonConverter(typeof(SquareSizeConverter))]
    public int? Size { get; init; }

    /// <summary>Keys not recognised; refused by name at validation.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unrecognized { get; init; }

    /// <summary>ImageNet statistics with bilinear squash resize: what every OpenVision release uses.</summary>
    public static PreprocessConfig OpenVisionDefault { get; } = new()
    {
        Mean = [0.485, 0.456, 0.406],
        Std = [0.229, 0.224, 0.225],
        Interpolation = "bilinear",
        ResizeMode = "squash",
    };
}
