using System.Text.Json;
using System.Text.Json.Serialization;
using OpenVision.Configs;

namespace OpenVision.Captioning;

/// <summary>The OpenVision 2 caption decoder's architecture: the hub repos' <c>text_decoder_config.json</c>.</summary>
public sealed record CaptionDecoderConfig
{
    /// <summary>File name of the config in an OpenVision 2 repository.</summary>
    public const string FileName = "text_decoder_config.json";

    /// <summary>Decoder width (JAX <c>text_decoder_v2.decode_variant</c>: 768 for "L", 1024 for "H").</summary>
    public int Width { get; init; } = 768;

    /// <summary>Number of residual blocks.</summary>
    public int Depth { get; init; } = 12;

    /// <summary>Attention heads.</summary>
    public int NumHeads { get; init; } = 12;

    /// <summary>MLP hidden width.</summary>
    public int MlpDim { get; init; } = 3072;

    /// <summary>Rows of the token embedding and the LM head (32000; the WordPiece vocabulary uses 30522).</summary>
    public int VocabSize { get; init; } = 32000;

    /// <summary>Width of the vision tower's patch tokens the decoder reads.</summary>
    public int VisionWidth { get; init; } = 1024;

    /// <summary>Id that starts every caption ([bos]).</summary>
    public int BosId { get; init; } = 1;

    /// <summary>Id that ends a caption ([eos]).</summary>
    public int EosId { get; init; } = 2;

    /// <summary>Keys not recognised; <see cref="Problems"/> refuses them by name.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unrecognized { get; init; }

    /// <summary>Every problem with this config.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var key in Unrecognized?.Keys ?? Enumerable.Empty<string>()) problems.Add($"unknown or unsupported key '{key}'");
        if (Width <= 0 || Depth <= 0 || NumHeads <= 0 || MlpDim <= 0 || VocabSize <= 0 || VisionWidth <= 0)
            problems.Add("width, depth, num_heads, mlp_dim, vocab_size and vision_width must be positive");
        else if (Width % NumHeads != 0) problems.Add($"width {Width} is not divisible by num_heads {NumHeads}");
        if (BosId < 0 || BosId >= VocabSize || EosId < 0 || EosId >= VocabSize) problems.Add($"bos_id {BosId} and eos_id {EosId} must be ids below vocab_size {VocabSize}");
        return problems;
    }

    /// <summary>Reads and validates a <c>text_decoder_config.json</c>; problems name the file.</summary>
    public static CaptionDecoderConfig Load(string path)
    {
        CaptionDecoderConfig? config;
        try { config = JsonSerializer.Deserialize<CaptionDecoderConfig>(File.ReadAllText(path), ConfigJson.Options); }
        catch (JsonException e) { throw new ConfigException(path, [$"invalid JSON: {e.Message}"]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ConfigException(path, [e.Message]); }
        if (config is null) throw new ConfigException(path, ["the config is null"]);
        var problems = config.Problems();
        return problems.Count == 0 ? config : throw new ConfigException(path, problems);
    }
}
