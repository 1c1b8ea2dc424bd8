using System.Text.Json;
using OpenVision.Lab.Datasets;

namespace OpenVision.Cli.Tests;

/// <summary><c>openvision demo</c> end to end on a small Fashion-MNIST-format folder: conversion, both stages at the
/// sizes asked for, evaluation, the saved model and the examples; bad stage sizes are one-line errors.</summary>
public sealed class DemoCliTests : IDisposable
{
    private const int Images = 48;
    private readonly string temp = Directory.CreateTempSubdirectory("ov-demo-cli-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void TrainsBothStagesAtTheAskedSizesAndSavesTheFinalResolution()
    {
        string data = WriteFashionMnistFolder(), output = Path.Combine(temp, "run");
        var result = Cli.Run("demo", "--data", data, "--output", output, "--low-res-epochs", "1", "--high-res-epochs", "0.5",
            "--high-res-size", "20", "--high-res-lr", "1e-3", "--batch-size", "16");
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Contains($"Fashion-MNIST: {Images} training and {Images} test images", result.Stdout);
        Assert.Contains("after stage 1 (16 px)", result.Stdout);
        Assert.Contains("after stage 2 (20 px)", result.Stdout);
        Assert.Contains("zero-shot evaluation at 20 px", result.Stdout);
        Assert.Contains($"zero-shot top-1 on {Images} Fashion-MNIST test images", result.Stdout);
        Assert.Contains("test image 5:", result.Stdout);   // the examples come from the saved model, loaded back

        // Epochs count the folder's own training images: 48 then 24 samples at batch 16 = 3 + 1 steps.
        var steps = File.ReadAllLines(Path.Combine(output, "run", "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([16, 16, 16, 20], steps.Select(s => s.GetProperty("image_size").GetInt32()));
        Assert.Equal(1e-3, steps.Where(s => s.GetProperty("stage").GetInt32() == 1).Max(s => s.GetProperty("lr").GetDouble()), 12);

        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "model", "open_clip_config.json"))).RootElement;
        Assert.Equal(20, config.GetProperty("model_cfg").GetProperty("vision_cfg").GetProperty("image_size").GetInt32());
    }

    [Theory]
    [InlineData("--high-res-size", "22")]
    [InlineData("--low-res-size", "18")]
    public void StageSizesOffThePatchGridAreOneLineErrors(string option, string value)
    {
        var result = Cli.Run("demo", "--data", WriteFashionMnistFolder(), "--output", Path.Combine(temp, "bad"), option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("multiples of the patch size 4", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Theory]
    [InlineData("--batch-size", "0", "--batch-size must be 1 to 60,000 (the training set), not 0")]
    [InlineData("--low-res-epochs", "0", "--low-res-epochs must be in (0, 1000], not 0")]
    [InlineData("--high-res-epochs", "NaN", "--high-res-epochs must be in (0, 1000], not NaN")]
    [InlineData("--high-res-lr", "1e300", "--high-res-lr must be in (0, 1000], not 1E+300")]
    [InlineData("--low-res-size", "100000", "--low-res-size must be 4 to 4096 px, not 100000")]
    public void BadOptionsAreRefusedByNameBeforeTheDataIsConverted(string option, string value, string message)
    {
        string output = Path.Combine(temp, "bad");
        var result = Cli.Run("demo", "--data", WriteFashionMnistFolder(), "--output", output, option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"openvision: error: {message}\n", result.Stderr);
        Assert.False(Directory.Exists(output));                  // no shards were written
    }

    // Both splits in the IDX format of the Fashion-MNIST downloads: bright blocks whose position depends on the class.
    private string WriteFashionMnistFolder()
    {
        string dir = Path.Combine(temp, "fashion-mnist");
        if (Directory.Exists(dir)) return dir;
        Directory.CreateDirectory(dir);
        var pixels = new byte[Images * 784];
        var labels = new byte[Images];
        for (int i = 0; i < Images; i++)
        {
            labels[i] = (byte)(i % 10);
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    pixels[i * 784 + (2 * labels[i] + y) * 28 + 4 + x + labels[i]] = 200;
        }
        foreach (var split in new[] { "train", "t10k" })
        {
            IdxFile.Write(Path.Combine(dir, $"{split}-images-idx3-ubyte"), [Images, 28, 28], pixels);
            IdxFile.Write(Path.Combine(dir, $"{split}-labels-idx1-ubyte"), [Images], labels);
        }
        return dir;
    }
}
