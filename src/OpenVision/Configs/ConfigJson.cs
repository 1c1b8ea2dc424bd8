using System.Text.Json;
using System.Text.Json.Nodes;
using OpenVision.IO;

namespace OpenVision.Configs;

/// <summary>Reads and writes open_clip model configs, both bare and in the hub form <c>{"model_cfg", "preprocess_cfg"}</c>.</summary>
public static class ConfigJson
{
    /// <summary>Serializer settings: snake_case keys, comments and trailing commas allowed.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The model_cfg keys without a default. text_cfg is not among them: a config without it describes a
    /// vision-only model (OpenVision 2's encoder releases).</summary>
    private static readonly string[] RequiredKeys = ["embed_dim", "vision_cfg"];

    /// <summary>Largest config file read: 16 MiB (real configs are under 2 KB).</summary>
    public const long MaxFileBytes = 16L << 20;

    /// <summary>Parses and validates a config; <paramref name="source"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string source)
    {
        JsonObject root;
        try
        {
            // Duplicate keys are refused: which of two "width"s a reader keeps is not something a config should leave open.
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false }) as JsonObject
                ?? throw new ConfigException(source, ["the config is not a JSON object"]);
        }
        catch (JsonException e) { throw new ConfigException(source, [$"invalid JSON: {JsonProblem.Describe(e)}"]); }

        JsonNode modelNode = root;
        string block = "";
        PreprocessConfig preprocess = PreprocessConfig.OpenVisionDefault;
        if (!root.ContainsKey("model_cfg") && !RequiredKeys.Any(root.ContainsKey))
            throw new ConfigException(source, ["no model_cfg; expected {\"model_cfg\": …, \"preprocess_cfg\": …}"]);
        if (root.ContainsKey("model_cfg"))
        {
            block = "model_cfg.";
            var extra = root.Select(kv => kv.Key).Where(k => k is not ("model_cfg" or "preprocess_cfg")).ToList();
            if (extra.Count > 0) throw new ConfigException(source, extra.Select(k => $"unknown or unsupported key '{k}'").ToList());
            modelNode = root["model_cfg"] ?? throw new ConfigException(source, ["model_cfg is null"]);
            if (root["preprocess_cfg"] is JsonNode p) preprocess = Deserialize<PreprocessConfig>(p, source, "preprocess_cfg");
        }
        // open_clip's CLIP(embed_dim, vision_cfg, text_cfg) takes these without defaults; the C# defaults (ViT-B sizes)
        // must not stand in for them, or a half-written config builds the wrong model and fails only on tensor shapes.
        if (modelNode is JsonObject model && RequiredKeys.Where(k => !model.ContainsKey(k)).Select(k => $"{block}{k} is missing").ToList() is { Count: > 0 } missing)
            throw new ConfigException(source, missing);
        var config = Deserialize<ModelConfig>(modelNode, source, "model_cfg") with { Preprocess = preprocess, Name = source };
        return config.Validate();
    }

    /// <summary>Reads and validates a config file.</summary>
    public static ModelConfig Load(string path, string? name = null)
    {
        string text;
        try { text = InputFile.ReadAllText(path, MaxFileBytes); }
        catch (InputFileException e) { throw new ConfigException(path, [e.Problem]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ConfigException(path, [e.Message]); }
        var config = Parse(text, path);
        return name == null ? config : config with { Name = name };
    }

    /// <summary>Writes the hub form, which open_clip and OpenVision's Python code read.</summary>
    public static string ToHubJson(ModelConfig config)
    {
        var root = new JsonObject
        {
            ["model_cfg"] = JsonSerializer.SerializeToNode(config, Options),
            ["preprocess_cfg"] = JsonSerializer.SerializeToNode(config.Preprocess with { Size = null }, Options),
        };
        return root.ToJsonString(Options);
    }

    private static T Deserialize<T>(JsonNode node, string source, string block)
    {
        try { return node.Deserialize<T>(Options) ?? throw new ConfigException(source, [$"{block} is null"]); }
        catch (JsonException e) { throw new ConfigException(source, [$"{block}{JsonProblem.Field(e)}: {JsonProblem.Describe(e)}"]); }
    }
}
