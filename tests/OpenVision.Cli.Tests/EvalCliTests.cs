using System.Text;
using System.Text.Json;
using OpenVision.Training.Data.WebDataset;
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

    [Fact]
    public void ZeroShotReadsWebDatasetShardsAndPrintsTheImageRate()
    {
        string pattern = WriteShards("eval", [("a", "chelsea.png", "cls", "0"), ("b", "horse.png", "cls", "1"), ("c", "rocket.jpg", "cls", "rocket"), ("d", "truncated.jpg", "cls", "0")]);
        File.WriteAllLines(Path.Combine(temp, "names.txt"), ["cat", "horse", "rocket"]);
        string output = Path.Combine(temp, "wds.json");
        var result = Cli.Run("eval", "zeroshot", "--model", Tiny, "--shards", pattern, "--class-names", Path.Combine(temp, "names.txt"),
            "--templates", "identity", "--dataset-name", "toy-wds", "--output", output);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"image loop: 3 images in [0-9.]+ s \([0-9.]+ images/s\)", result.Stdout);
        Assert.Contains("eval-000001.tar:d", result.Stderr);     // the truncated JPEG, named by shard and key
        using var json = JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal("toy-wds", json.RootElement.GetProperty("dataset").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("metrics").GetProperty("num_samples").GetDouble());
        Assert.Equal(1, json.RootElement.GetProperty("metrics").GetProperty("num_skipped").GetDouble());
        Assert.Equal(3, json.RootElement.GetProperty("details").GetProperty("throughput").GetProperty("images").GetInt64());
    }

    [Fact]
    public void LinearProbeTakesTrainAndTestShards()
    {
        string train = WriteShards("train", [("a", "chelsea.png", "cls", "0"), ("b", "horse.png", "cls", "1"), ("c", "chelsea_q90_444.jpg", "cls", "0"), ("d", "rocket.jpg", "cls", "1")]);
        string test = WriteShards("test", [("e", "chelsea.webp", "cls", "0"), ("f", "horse.png", "cls", "1")]);
        File.WriteAllLines(Path.Combine(temp, "names.txt"), ["cat", "other"]);
        var result = Cli.Run("eval", "linear-probe", "--model", Tiny, "--shards", train, "--test-shards", test,
            "--class-names", Path.Combine(temp, "names.txt"), "--l2", "1e-2", "--output", Path.Combine(temp, "lp.json"));

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"image loop \(train\): 4 images in [0-9.]+ s", result.Stdout);
        Assert.Matches(@"image loop \(test\): 2 images in [0-9.]+ s", result.Stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp, "lp.json")));
        Assert.Equal(2, json.RootElement.GetProperty("metrics").GetProperty("num_test").GetDouble());
    }

    [Fact]
    public void RetrievalReadsCaptionLinesFromShards()
    {
        string pattern = WriteShards("caps", [("a", "chelsea.png", "txt", "a cat\na tabby cat lying down"), ("b", "horse.png", "txt", "a horse"), ("c", "rocket.jpg", "txt", "a rocket")]);
        var result = Cli.Run("eval", "retrieval", "--model", Tiny, "--data", pattern, "--output", Path.Combine(temp, "ret.json"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("image loop: 3 images", result.Stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp, "ret.json")));
        Assert.Equal(3, json.RootElement.GetProperty("metrics").GetProperty("num_images").GetDouble());
        Assert.Equal(4, json.RootElement.GetProperty("metrics").GetProperty("num_texts").GetDouble());
    }

    // Reference images in tar shards of two samples, each with one text entry; returns the brace pattern.
    private string WriteShards(string prefix, (string Key, string Image, string TextExtension, string Text)[] samples)
    {
        using var writer = new WebDatasetWriter(Path.Combine(temp, "shards"), prefix, 2);
        foreach (var (key, image, extension, text) in samples)
            writer.Write(key, new Dictionary<string, byte[]>
            {
                [Path.GetExtension(image)[1..]] = File.ReadAllBytes(ReferenceData.Path("preprocess", "images", image)),
                [extension] = Encoding.UTF8.GetBytes(text),
            });
        writer.Flush();
        return writer.ShardPattern;
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
