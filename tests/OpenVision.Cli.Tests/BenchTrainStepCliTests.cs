using System.Text.Json;

namespace OpenVision.Cli.Tests;

public sealed class BenchTrainStepCliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-bench-step-cli-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    // The demo's architecture (the default model) at a tiny batch: figures printed and written, reference inputs exported.
    [Fact]
    public void TimesTheDemoStepAndExportsTheReferenceInputs()
    {
        string json = Path.Combine(temp, "step.json"), export = Path.Combine(temp, "export");
        var result = Cli.Run("bench", "train-step", "--batch-size", "4", "--steps", "2", "--warmup-steps", "1", "--json", json, "--export-weights", export);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Contains("first-step loss", result.Stdout);
        Assert.Contains("ms/step", result.Stdout);

        var figures = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("openvision-fashion-tiny", figures.GetProperty("model").GetString());
        Assert.Equal(16, figures.GetProperty("image_size").GetInt32());
        Assert.True(figures.GetProperty("step_ms").GetDouble() > 0);
        Assert.Equal(3, figures.GetProperty("total_losses").GetArrayLength());
        Assert.Equal(["batch.safetensors", "open_clip_config.json", "train_step.json", "weights.safetensors"],
            Directory.GetFiles(export).Select(Path.GetFileName).Order());
        var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(export, "train_step.json"))).RootElement;
        Assert.Equal(figures.GetProperty("first_step_losses").GetProperty("total").GetDouble(),
            settings.GetProperty("torchsharp").GetProperty("first_step_losses").GetProperty("total").GetDouble());
    }

    [Theory]
    [InlineData("--batch-size", "1", "batch size must be at least 2")]
    [InlineData("--model", "openvision-vit-tiny-patch16-16O", "closest built-in names")]
    public void BadArgumentsAreOneLineErrors(string option, string value, string expected)
    {
        var result = Cli.Run("bench", "train-step", option, value, "--steps", "1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
    }
}
