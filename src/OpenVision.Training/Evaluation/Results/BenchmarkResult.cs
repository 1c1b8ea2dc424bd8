using OpenVision.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpenVision.Training.Evaluation.Results;

/// <summary>One evaluation result in CLIP_benchmark's schema: <c>{"dataset", "model", "pretrained", "task",
/// "metrics": {…}, "language"}</c>, so existing result collectors and leaderboards read our files. Extra detail
/// (per-class recall, the L2 sweep, skipped files) goes under "details", which those tools ignore.</summary>
public sealed record BenchmarkResult
{
    /// <summary>CLIP_benchmark task name of zero-shot classification.</summary>
    public const string ZeroShotClassification = "zeroshot_classification";

    /// <summary>CLIP_benchmark task name of zero-shot image–text retrieval.</summary>
    public const string ZeroShotRetrieval = "zeroshot_retrieval";

    /// <summary>CLIP_benchmark task name of linear probing.</summary>
    public const string LinearProbe = "linear_probe";

    /// <summary>Data set name.</summary>
    public required string Dataset { get; init; }

    /// <summary>Model name.</summary>
    public required string Model { get; init; }

    /// <summary>Weights (file, hub id or "random-init").</summary>
    public required string Pretrained { get; init; }

    /// <summary>Task, one of the constants of this type.</summary>
    public required string Task { get; init; }

    /// <summary>Metrics in report order.</summary>
    public required IReadOnlyList<Metric> Metrics { get; init; }

    /// <summary>Language of the prompts (CLIP_benchmark's field).</summary>
    public string Language { get; init; } = "en";

    /// <summary>Extra detail written under "details", or null.</summary>
    public JsonObject? Details { get; init; }

    /// <summary>The value of metric <paramref name="name"/>.</summary>
    public double this[string name] => Metrics.First(m => m.Name == name).Value;

    /// <summary>The result as an indented JSON object.</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["dataset"] = Dataset,
            ["model"] = Model,
            ["pretrained"] = Pretrained,
            ["task"] = Task,
            ["metrics"] = new JsonObject(Metrics.Select(m => KeyValuePair.Create(m.Name, (JsonNode?)JsonValue.Create(m.Value)))),
            ["language"] = Language,
        };
        if (Details is not null) root["details"] = Details.DeepClone();
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Parses a result written by <see cref="ToJson"/> (or by CLIP_benchmark).</summary>
    public static BenchmarkResult FromJson(string json)
    {
        var root = JsonNode.Parse(json)?.AsObject() ?? throw new FormatException("not a JSON object");
        string Field(string name) => root[name]?.GetValue<string>() ?? throw new FormatException($"missing \"{name}\"");
        var metrics = root["metrics"]?.AsObject() ?? throw new FormatException("missing \"metrics\"");
        return new BenchmarkResult
        {
            Dataset = Field("dataset"),
            Model = Field("model"),
            Pretrained = root["pretrained"]?.GetValue<string>() ?? "",
            Task = Field("task"),
            Language = root["language"]?.GetValue<string>() ?? "en",
            Metrics = metrics.Where(p => p.Value is JsonValue).Select(p => new Metric(p.Key, p.Value!.GetValue<double>())).ToList(),
            Details = root["details"]?.DeepClone().AsObject(),
        };
    }

    /// <summary>Writes the JSON to <paramref name="path"/> (UTF-8, trailing newline).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");   // UTF-8 without a BOM
}
