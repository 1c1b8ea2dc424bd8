using System.Text.Json;
using OpenVision.Checkpoints;
using OpenVision.IO;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Cli.Tests;

/// <summary><c>--dtype bfloat16</c> from the command line: float32 files out, close to the float32 run.</summary>
public sealed class BFloat16CliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-cli-bf16-").FullName;
    private static string Tiny => ReferenceModels.Folder("openvision-vit-tiny-patch16-160");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    [Fact]
    public void EmbedBFloat16WritesFloat32FeaturesCloseToTheFloat32Run()
    {
        var expected = ReferenceModels.Expected("openvision-vit-tiny-patch16-160");
        NpyFile.Write(Temp("pixels.npy"), expected["pixels"]);
        NpyFile.Write(Temp("ids.npy"), expected["text_ids"]);
        string[] inputs = ["--pixels", Temp("pixels.npy"), "--text-ids", Temp("ids.npy"), "--tokens", "--layer", "-2"];
        var fp32Run = Cli.Run(["embed", "--model", Tiny, .. inputs, "--dtype", "float32", "--output", Temp("fp32.safetensors")]);
        Assert.True(fp32Run.ExitCode == 0, fp32Run.Stderr);
        var bf16Run = Cli.Run(["embed", "--model", Tiny, .. inputs, "--dtype", "bfloat16", "--output", Temp("bf16.safetensors")]);
        Assert.True(bf16Run.ExitCode == 0, bf16Run.Stderr);

        var fp32 = SafetensorsFile.Read(Temp("fp32.safetensors"));
        var bf16 = SafetensorsFile.Read(Temp("bf16.safetensors"));
        Assert.Equal(fp32.Keys.Order(), bf16.Keys.Order());
        // Bounds derived from the number of bfloat16 rounding points (BFloat16Bounds), not measured on one CPU.
        var config = OpenVision.Configs.ConfigJson.Load(Path.Combine(Tiny, "open_clip_config.json"));
        var bounds = new Dictionary<string, double>
        {
            ["image_features"] = BFloat16Bounds.ImageFeatures(config.VisionCfg),
            ["text_features"] = BFloat16Bounds.TextFeatures(config.TextCfg),
            ["image_tokens"] = BFloat16Bounds.ImageTokens(config.VisionCfg),
            ["image_hidden"] = BFloat16Bounds.ImageBlock(config.VisionCfg.Layers - 1),
        };
        foreach (var (name, bound) in bounds)
        {
            Assert.Equal(TensorDType.F32, bf16[name].DType);
            using var actual = bf16[name].ToTorch();
            using var reference = fp32[name].ToTorch();
            double error = Tolerance.RelativeError(actual, reference);
            Assert.True(error <= bound, $"{name}: bf16 vs fp32 relative error {error:E3} exceeds the derived bound {bound:E3}");
            Assert.True(error > 1e-4, $"{name}: relative error {error:E3} is float32-sized; did --dtype bfloat16 take effect?");
        }
    }

    [Fact]
    public void AliasBf16WritesFloat32Npy()
    {
        var result = Cli.Run("embed", "--model", Tiny, "--dtype", "bf16", "--texts", "a cat", "a dog", "--output", Temp("texts.npy"));
        Assert.True(result.ExitCode == 0, result.Stderr);
        var features = NpyFile.Read(Temp("texts.npy"));
        Assert.Equal(TensorDType.F32, features.DType);
        Assert.Equal([2L, 192L], features.Shape);
    }

    [Fact]
    public void ClassifyRunsInBFloat16()
    {
        var result = Cli.Run("classify", "--model", Tiny, "--dtype", "bfloat16", ReferenceData.Path("preprocess", "images", "chelsea.png"),
            "--labels", "a cat", "a dog", "a rocket", "--json", "--top", "3");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var top = JsonDocument.Parse(result.Stdout).RootElement[0].GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        Assert.Equal(1.0, top.Sum(t => t.GetProperty("probability").GetDouble()), 5);
    }

    [Fact]
    public void OnnxBackendRefusesBFloat16InOneLine()
    {
        var result = Cli.Run("embed", "--model", Tiny, "--backend", "onnx", "--dtype", "bfloat16", "--texts", "a cat", "--output", Temp("onnx.npy"));
        Assert.Equal(1, result.ExitCode);
        string message = result.Stderr.Trim();
        Assert.StartsWith("openvision: error:", message);
        Assert.DoesNotContain('\n', message);
        Assert.Contains("--dtype bfloat16 needs --backend torch", message);
        Assert.False(File.Exists(Temp("onnx.npy")));
    }

    [Fact]
    public void UnknownDTypeNamesTheChoices()
    {
        var result = Cli.Run("embed", "--model", Tiny, "--dtype", "float16", "--texts", "a cat", "--output", Temp("x.npy"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--dtype must be float32, float64 or bfloat16, not 'float16'", result.Stderr);
    }

    // bench bf16-ops: a row per operation with both timings, the per-block sums, and the whole block as the model runs it.
    [Fact]
    public void BenchBFloat16OpsPrintsEveryOperationAndTheWholeBlock()
    {
        var result = Cli.Run("bench", "bf16-ops", "--models", "openvision-vit-tiny-patch16-224", "--batch-sizes", "1", "--seconds", "0.02");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n');
        foreach (string op in new[] { "layer norm", "linear qkv 192→576", "attention 3 heads × 64", "linear out 192→192 + residual",
                                      "linear fc1 192→768 + gelu", "linear fc2 768→192 + residual" })
        {
            var row = lines.Single(line => line.TrimStart().StartsWith(op, StringComparison.Ordinal));
            var numbers = row[(row.IndexOf(op, StringComparison.Ordinal) + op.Length)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(double.Parse(numbers[1], System.Globalization.CultureInfo.InvariantCulture) > 0 &&
                        double.Parse(numbers[2], System.Globalization.CultureInfo.InvariantCulture) > 0, row);
        }
        Assert.Contains(lines, line => line.Contains("linear layers ") && line.Contains(", block "));
        var whole = lines.Single(line => line.Contains("the block as the model runs it"));
        Assert.Matches(@"fp32 \d+\.\d+ ms, bf16 \d+\.\d+ ms, \d+\.\d+x", whole);
    }
}
