using OpenVision.Checkpoints;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests.Cli;

/// <summary><c>openvision export onnx</c> and <c>--backend onnx</c>, run as a user runs them: a child process.</summary>
public class ExportCliTests
{
    private const string Name = "ovtest-mini-p8-40";

    [Fact]
    public void ExportOnnxWritesAValidatedFolder()
    {
        string output = Exports.TempFolder("cli-export");
        var result = CliProcess.Run(null, "export", "onnx", "--model", ReferenceModels.Folder(Name), "--output", output, "--int8", "--tokens");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("float32", result.Stdout);
        Assert.Contains("int8", result.Stdout);
        var manifest = OnnxManifest.Load(output);
        Assert.Equal([OnnxPrecision.Float32, OnnxPrecision.Int8], manifest.Files.Select(f => f.Precision));
        Assert.True(manifest.Validation[0].ImageRelativeError <= 1e-4);
        Assert.Contains(manifest.Vision, t => t.Name == "image_tokens");
    }

    [Fact]
    public void EmbedAndClassifyOnOnnxMatchTorch()
    {
        string cache = Exports.TempFolder("cli-cache");
        var env = new Dictionary<string, string> { ["OPENVISION_ONNX_CACHE"] = cache };
        string folder = ReferenceModels.Folder(Name);
        string image = ReferenceData.Path("preprocess", "images", "horse.png");
        string torchOut = Path.Combine(cache, "torch.safetensors"), onnxOut = Path.Combine(cache, "onnx.safetensors");

        var torchRun = CliProcess.Run(env, "embed", "--model", folder, "--images", image, "--texts", "a horse", "a cat", "--tokens", "--output", torchOut);
        var onnxRun = CliProcess.Run(env, "embed", "--model", folder, "--backend", "onnx", "--images", image, "--texts", "a horse", "a cat", "--tokens", "--output", onnxOut);
        Assert.True(torchRun.ExitCode == 0, torchRun.Stderr);
        Assert.True(onnxRun.ExitCode == 0, onnxRun.Stderr);
        Assert.Contains("exporting", onnxRun.Stderr);                              // the first use exports into the cache
        Assert.Single(Directory.GetDirectories(cache), d => File.Exists(Path.Combine(d, OnnxManifest.FileName)));
        var torch = SafetensorsFile.Read(torchOut);
        var onnx = SafetensorsFile.Read(onnxOut);
        foreach (var key in new[] { "image_features", "image_tokens", "text_features" })
        {
            using var a = onnx[key].ToTorch();
            using var b = torch[key].ToTorch();
            Assert.True(Tolerance.RelativeError(a, b) <= Tolerance.Float32, key);
        }

        string[] classify = ["classify", "--model", folder, image, "--labels", "a horse", "a cat", "a car", "--json"];
        var torchClasses = CliProcess.Run(env, classify);
        var onnxClasses = CliProcess.Run(env, [.. classify, "--backend", "onnx"]);
        Assert.True(onnxClasses.ExitCode == 0, onnxClasses.Stderr);
        Assert.DoesNotContain("exporting", onnxClasses.Stderr);                    // the second use finds the cached export
        Assert.Equal(Labels(torchClasses.Stdout), Labels(onnxClasses.Stdout));
    }

    [Fact]
    public void BadBackendArgumentsAreUserErrors()
    {
        var wrong = CliProcess.Run(null, "embed", "--model", ReferenceModels.Folder(Name), "--backend", "tensorrt", "--texts", "x", "--output", Path.Combine(Exports.TempFolder("bad"), "x.npy"));
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("--backend must be torch, onnx or fastest", wrong.Stderr);
        var layer = CliProcess.Run(null, "embed", "--model", ReferenceModels.Folder(Name), "--backend", "onnx", "--random-init",
            "--pixels", "missing.npy", "--layer", "-2", "--output", Path.Combine(Exports.TempFolder("bad"), "x.safetensors"));
        Assert.Equal(1, layer.ExitCode);
        Assert.Contains("not block outputs (use the TorchSharp backend, --backend torch)", layer.Stderr);
        var missing = CliProcess.Run(null, "export", "onnx", "--model", "openvision-vit-tiny-patch16-224", "--output", Exports.TempFolder("bad"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("--random-init", missing.Stderr);
    }

    // The label order of the --json output (probabilities differ in the last digits between backends).
    private static string[] Labels(string json) =>
        System.Text.Json.JsonDocument.Parse(json).RootElement[0].GetProperty("top").EnumerateArray().Select(e => e.GetProperty("label").GetString()!).ToArray();
}
