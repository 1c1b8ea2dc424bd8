using System.Text.Json;
using OpenVision.Checkpoints;
using OpenVision.IO;
using OpenVision.Tests;
using OpenVision.Tests.Parity;
using OpenVision.Text;
using TorchSharp;

namespace OpenVision.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-cli-").FullName;
    private static string Tiny => ReferenceModels.Folder("openvision-vit-tiny-patch16-160");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    [Fact]
    public void ModelsJsonListsEveryConfigWithExactCounts()
    {
        var result = Cli.Run("models", "--json");
        Assert.Equal(0, result.ExitCode);
        var rows = JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(33, rows.Count);   // 26 OpenVision + 7 OpenVision 2 vision-only
        var huge = rows.Single(r => r.GetProperty("name").GetString() == "openvision-vit-huge-patch14-224");
        Assert.Equal(632_074_240, huge.GetProperty("vision_params").GetInt64());
    }

    [Fact]
    public void InfoWorksOnABuiltInNameWithoutWeights()
    {
        var result = Cli.Run("info", "--model", "openvision-vit-so400m-patch14-384");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("27x27 grid", result.Stdout);
        Assert.Contains("414,315,504", result.Stdout);
    }

    [Theory]
    [InlineData("", "", "enabled")]
    [InlineData("OPENVISION_HEAP_TUNING", "0", "disabled by OPENVISION_HEAP_TUNING=0")]
    [InlineData("MALLOC_TRIM_THRESHOLD_", "1048576", "left to the environment (MALLOC_TRIM_THRESHOLD_ is set)")]
    public void InfoReportsTheHeapTuningDecision(string variable, string value, string expected)
    {
        var environment = new Dictionary<string, string>();
        if (variable != "") environment[variable] = value;
        var result = Cli.RunWithEnvironment(environment, "info", "--model", "openvision-vit-tiny-patch16-224");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("heap tuning    " + expected, result.Stdout);
    }

    [Theory]
    [InlineData("", "available")]
    [InlineData("0", "OPENVISION_ADAPTIVE_THREADS=0")]
    public void InfoReportsWhetherModelThreadsAdaptToContention(string value, string expected)
    {
        var environment = new Dictionary<string, string>();
        if (value != "") environment["OPENVISION_ADAPTIVE_THREADS"] = value;
        var result = Cli.RunWithEnvironment(environment, "info", "--model", "openvision-vit-tiny-patch16-224");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"model threads  all of libtorch's \(\d+\); one per image and batches in parts while other processes compete for the cores and that measures faster: " + expected, result.Stdout);
    }

    [Fact]
    public void TokenizeWritesTheTokenizersIds()
    {
        var result = Cli.Run("tokenize", "--model", "openvision-vit-tiny-patch16-224", "a photo of a dog.", "tench", "--output", Temp("ids.npy"));
        Assert.Equal(0, result.ExitCode);
        var ids = NpyFile.Read(Temp("ids.npy"));
        Assert.Equal(new long[] { 2, 80 }, ids.Shape);
        var expected = OpenVisionTokenizer.CreateDefault().Encode("tench");
        Assert.Equal(expected, Enumerable.Range(80, 80).Select(i => BitConverter.ToInt64(ids.Bytes, i * 8)));
    }

    [Fact]
    public void PreprocessMatchesReferencePixels()
    {
        string image = ReferenceData.Path("preprocess", "images", "chelsea.png");
        var result = Cli.Run("preprocess", "--model", "openvision-vit-tiny-patch16-160", image, "--output", Temp("px.npy"));
        Assert.Equal(0, result.ExitCode);
        var expected = SafetensorsFile.Read(ReferenceData.Path("preprocess", "expected", "chelsea.png.safetensors"))["pixels_160"];
        var actual = NpyFile.Read(Temp("px.npy"));
        Assert.Equal(new long[] { 1, 3, 160, 160 }, actual.Shape);
        Assert.Equal(expected.Bytes, actual.Bytes);     // bit-exact
    }

    // Parity through the command line: reference pixels and ids in, reference features out.
    [Fact]
    public void EmbedReproducesReferenceFeatures()
    {
        var expected = ReferenceModels.Expected("openvision-vit-tiny-patch16-160");
        NpyFile.Write(Temp("pixels.npy"), expected["pixels"]);
        NpyFile.Write(Temp("ids.npy"), expected["text_ids"]);
        var result = Cli.Run("embed", "--model", Tiny, "--pixels", Temp("pixels.npy"), "--text-ids", Temp("ids.npy"),
            "--no-normalize", "--tokens", "--layer", "-2", "--batch-size", "1", "--output", Temp("out.safetensors"));
        Assert.True(result.ExitCode == 0, result.Stderr);
        var output = SafetensorsFile.Read(Temp("out.safetensors"));
        foreach (var (ours, theirs) in new[] { ("image_features", "image_features"), ("text_features", "text_features"), ("image_tokens", "image_tokens"), ("image_hidden", "image_hidden_m2") })
            Tolerance.AssertClose(output[ours].ToTorch(), expected[theirs].ToTorch(), Tolerance.Float32, ours);
    }

    [Fact]
    public void EmbedFolderSkipsUnreadableFilesAndKeepsGoing()
    {
        var result = Cli.Run("embed", "--model", Tiny, "--images", ReferenceData.Path("preprocess", "images"), "--output", Temp("f.npy"));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("truncated.jpg", result.Stderr);
        var features = NpyFile.Read(Temp("f.npy"));
        Assert.Equal(14, features.Shape[0]);
        Assert.Equal(14, File.ReadAllLines(Temp("f.npy") + ".images.txt").Length);
    }

    [Fact]
    public void ClassifyPrintsProbabilities()
    {
        var result = Cli.Run("classify", "--model", Tiny, ReferenceData.Path("preprocess", "images", "chelsea.png"),
            "--labels", "a cat", "a dog", "a rocket", "--json", "--top", "3");
        Assert.Equal(0, result.ExitCode);
        var top = JsonDocument.Parse(result.Stdout).RootElement[0].GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        Assert.Equal(1.0, top.Sum(t => t.GetProperty("probability").GetDouble()), 6);
    }

    [Theory]
    [InlineData(1, "info", "--model", "no-such-model")]
    [InlineData(1, "classify", "--model", "openvision-vit-tiny-patch16-160", "x.png", "--labels", "cat")]
    [InlineData(1, "embed", "--model", "openvision-vit-tiny-patch16-160", "--random-init", "--texts", "", "--output", "x.npy")]
    public void ErrorsAreOneLineWithoutStackTrace(int code, params string[] args)
    {
        var result = Cli.Run(args);
        Assert.Equal(code, result.ExitCode);
        Assert.StartsWith("openvision: error:", result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void IncompatibleCheckpointExitsWithTwo()
    {
        Directory.CreateDirectory(Temp("bad"));
        File.Copy(ReferenceData.Path("bad", "wrong_shape.safetensors"), Temp("bad/open_clip_model.safetensors"));
        File.Copy(Path.Combine(Tiny, "open_clip_config.json"), Temp("bad/open_clip_config.json"));
        var result = Cli.Run("embed", "--model", Temp("bad"), "--texts", "a cat", "--output", Temp("y.npy"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("visual.proj", result.Stderr);
        Assert.False(File.Exists(Temp("y.npy")));
    }
}
