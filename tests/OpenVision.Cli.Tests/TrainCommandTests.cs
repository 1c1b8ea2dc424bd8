using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Training.Data.Datasets;

namespace OpenVision.Cli.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-train-cli-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    // Real Fashion-MNIST shards (CI installs dataset-fashion-mnist), a tiny model, two steps; a second run resumes
    // from the final checkpoint and trains nothing more.
    [Fact]
    public void TrainsFromShardsSavesAnOpenClipModelAndResumes()
    {
        var test = FashionMnist.ReadTest();
        var shards = FashionMnistConverter.Convert(test, Path.Combine(temp, "shards"), new FashionMnistConversionOptions { Limit = 64, SamplesPerShard = 32 });
        var model = ModelRegistry.Get("openvision-vit-tiny-patch16-160") with
        {
            EmbedDim = 16,
            VisionCfg = ModelRegistry.Get("openvision-vit-tiny-patch16-160").VisionCfg with { ImageSize = 32, PatchSize = 8, Width = 32, Layers = 1, HeadWidth = 16 },
            TextCfg = ModelRegistry.Get("openvision-vit-tiny-patch16-160").TextCfg with { ContextLength = 16, Width = 16, Heads = 2, Layers = 1 },
        };
        File.WriteAllText(Path.Combine(temp, "model.json"), ConfigJson.ToHubJson(model));
        File.WriteAllText(Path.Combine(temp, "run.json"), $$"""
            // openvision train --config run.json --data shards --output out
            { "model": "{{Path.Combine(temp, "model.json")}}",
              "decoder": { "width": 16, "layers": 1, "heads": 2, "mlp_width": 32, "query_tokens": 8 },
              "stages": [ { "image_size": 16, "samples": 16, "batch_size": 8, "peak_lr": 0.001, "warmup_samples": 0 } ],
              "seed": 1 }
            """);
        string output = Path.Combine(temp, "out");
        var first = Cli.Run("train", "--config", Path.Combine(temp, "run.json"), "--data", shards.Pattern, "--output", output);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(output, "model", "open_clip_model.safetensors")));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(output, "losses.png"))[..4]);
        var info = Cli.Run("info", "--model", Path.Combine(output, "model"));
        Assert.Equal(0, info.ExitCode);

        var again = Cli.Run("train", "--config", Path.Combine(temp, "run.json"), "--data", shards.Pattern, "--output", output);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Length);
        Assert.Equal(2, JsonDocument.Parse(File.ReadAllLines(Path.Combine(output, "metrics.jsonl"))[1]).RootElement.GetProperty("step").GetInt32());
    }

    [Fact]
    public void UnknownConfigKeysAreOneLineErrors()
    {
        File.WriteAllText(Path.Combine(temp, "bad.json"), """{ "stages": [], "learning_rat": 1 }""");
        var result = Cli.Run("train", "--config", Path.Combine(temp, "bad.json"), "--data", temp, "--output", Path.Combine(temp, "o"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("learning_rat", result.Stderr);
    }
}
