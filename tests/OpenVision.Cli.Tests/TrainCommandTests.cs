using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Lab.Datasets;

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

    // The user's command form: mpirun -np 2 openvision train. Two ranks at the same global batch and seed log the
    // same losses as one process (float32, summed in a different order), and only rank 0 writes metrics and the model.
    [Fact]
    public void MpirunTwoRanksTrainLikeOneProcess()
    {
        var test = FashionMnist.ReadTest();
        var shards = FashionMnistConverter.Convert(test, Path.Combine(temp, "shards"), new FashionMnistConversionOptions { Limit = 64, SamplesPerShard = 32 });
        var tiny = ModelRegistry.Get("openvision-vit-tiny-patch16-160");
        var model = tiny with
        {
            EmbedDim = 16,
            VisionCfg = tiny.VisionCfg with { ImageSize = 32, PatchSize = 8, Width = 32, Layers = 1, HeadWidth = 16 },
            TextCfg = tiny.TextCfg with { ContextLength = 16, Width = 16, Heads = 2, Layers = 1 },
        };
        File.WriteAllText(Path.Combine(temp, "model.json"), ConfigJson.ToHubJson(model));
        File.WriteAllText(Path.Combine(temp, "run.json"), $$"""
            { "model": "{{Path.Combine(temp, "model.json")}}",
              "decoder": { "width": 16, "layers": 1, "heads": 2, "mlp_width": 32, "query_tokens": 8 },
              "stages": [ { "image_size": 16, "samples": 48, "batch_size": 16, "peak_lr": 0.001, "warmup_samples": 0 } ],
              "seed": 3, "threads": 1 }
            """);
        string one = Path.Combine(temp, "one"), two = Path.Combine(temp, "two");
        var single = Cli.Run("train", "--config", Path.Combine(temp, "run.json"), "--data", shards.Pattern, "--output", one);
        Assert.True(single.ExitCode == 0, single.Stderr + single.Stdout);
        var ranks = Cli.RunUnderMpirun(2, "train", "--config", Path.Combine(temp, "run.json"), "--data", shards.Pattern, "--output", two);
        Assert.True(ranks.ExitCode == 0, ranks.Stderr + ranks.Stdout);

        static double[] Losses(string folder) => File.ReadAllLines(Path.Combine(folder, "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToArray();
        double[] expected = Losses(one), actual = Losses(two);
        Assert.Equal(3, expected.Length);
        Assert.Equal(3, actual.Length);   // rank 0 alone writes the metrics
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Abs(expected[i]), $"step {i + 1}: {expected[i]} vs {actual[i]}");
        Assert.True(expected[2] != expected[0], "the losses must move for the comparison to mean anything");
        Assert.True(File.Exists(Path.Combine(two, "model", "open_clip_model.safetensors")));
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
