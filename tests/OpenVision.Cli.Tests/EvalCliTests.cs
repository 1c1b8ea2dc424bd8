using System.Text.Json;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Cli.Tests;

public sealed class EvalCliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-eval-cli-").FullName;
    private static string Tiny => ReferenceModels.Folder("openvision-vit-tiny-patch16-160");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void ZeroShotWritesJsonMarkdownAndConfusionPlot()
    {
        foreach (var (label, file) in new[] { ("cat", "chelsea.png"), ("cat", "truncated.jpg"), ("horse", "horse.png"), ("rocket", "rocket.jpg") })
        {
            Directory.CreateDirectory(Path.Combine(temp, "data", label));
            File.Copy(ReferenceData.Path("preprocess", "images", file), Path.Combine(temp, "data", label, file));
        }
        string output = Path.Combine(temp, "zs.json");
        var result = Cli.Run("eval", "zeroshot", "--model", Tiny, "--data", Path.Combine(temp, "data"), "--templates", "identity", "--output", output);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("| acc1 |", result.Stdout);
        Assert.Contains("skipped", result.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal("zeroshot_classification", json.RootElement.GetProperty("task").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("metrics").GetProperty("num_samples").GetDouble());
        Assert.Equal(1, json.RootElement.GetProperty("metrics").GetProperty("num_skipped").GetDouble());
        Assert.StartsWith("### zeroshot_classification", File.ReadAllText(Path.Combine(temp, "zs.md")));
        Assert.Equal((byte)0x89, File.ReadAllBytes(Path.Combine(temp, "zs.confusion.png"))[0]);
    }

    [Theory]
    [InlineData("eval", "zeroshot", "--model", "openvision-vit-tiny-patch16-224", "--data", "/no/such/folder")]
    [InlineData("eval", "zeroshot", "--model", "openvision-vit-tiny-patch16-224", "--data", ".", "--resize", "stretch")]
    [InlineData("eval", "linear-probe", "--model", "openvision-vit-tiny-patch16-224", "--data", ".", "--test-data", ".", "--k-shot", "0")]
    public void BadArgumentsExitWithOne(params string[] args)
    {
        var result = Cli.Run(args);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("openvision: error:", result.Stderr.Trim());
        Assert.Contains(args[^2] == "--data" ? "no such file" : args[^2], result.Stderr);   // the message names the culprit
    }
}
