using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests.Cli;

/// <summary><c>openvision bench --backend all --bf16 --int8</c> prints every row kind of the speed table in one run:
/// both backends (the default path also timed in ONNX Runtime's blocks), int8, bf16, both latencies, the ratio lines and
/// end to end.</summary>
public class BenchRowsCliTests
{
    private const string Name = "ovtest-mini-p16-64";

    [Fact]
    public void OneCommandPrintsEveryRowKind()
    {
        string folder = Exports.TempFolder("bench-rows"), json = Path.Combine(folder, "bench.json"), plot = Path.Combine(folder, "bench.png");
        var result = CliProcess.Run(null, "bench", "--models", ReferenceModels.Folder(Name), "--backend", "all", "--bf16", "--int8", "--batch-sizes", "1", "2",
            "--seconds", "0.05", "--latency-runs", "3", "--peak-gflops", "100", "--json", json, "--plot", plot);
        Assert.True(result.ExitCode == 0, result.Stderr);
        foreach (var row in new[] { "encode_image[onnx]", "encode_image[ort-plain]", "encode_image[default, alt]", "encode_image[onnx-int8]", "latency b1 p50/p99 ms[onnx]",
                     "default (TorchSharp) / ORT, same blocks: ", "/ the faster ORT path: ", "same blocks)",
                     "latency b1 p50/p99 ms[torch]", "BFloat16", "end_to_end", "model_only", "batch 1: fastest fp32: ", "batch 2: fastest fp32: ", "int8/fp32 onnx", "bf16/fp32 torch",
                     "end to end / model only (alternating batches) at batch 2: " })
            Assert.Contains(row, result.Stdout);
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(["onnx", "torch"], report.RootElement.GetProperty("latencies").EnumerateArray().Select(l => l.GetProperty("Backend").GetString()!).ToArray());
        Assert.Contains($"wrote {plot}", result.Stdout);
        var image = OpenVision.Vision.ImageDecoder.Decode(File.ReadAllBytes(plot), plot);
        Assert.Equal(new OpenVision.Lab.Plotting.BarChart().PanelWidth, image.Width);   // one model: one panel
    }

    [Fact]
    public void AnOutputInAMissingFolderIsRefusedBeforeTheRun()
    {
        string missing = Path.Combine(Exports.TempFolder("bench-missing"), "no-such-folder", "bench.png");
        var result = CliProcess.Run(null, "bench", "--models", ReferenceModels.Folder(Name), "--batch-sizes", "1", "--seconds", "0.05", "--peak-gflops", "100", "--plot", missing);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"--plot {missing}: the folder {Path.GetDirectoryName(missing)} does not exist", result.Stderr);
        Assert.DoesNotContain("encode_image", result.Stdout);
    }

    [Fact]
    public void Int8WithoutOnnxIsAUserError()
    {
        var result = CliProcess.Run(null, "bench", "--models", ReferenceModels.Folder(Name), "--int8", "--batch-sizes", "1", "--seconds", "0.05", "--peak-gflops", "100");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--int8 needs --backend onnx or all", result.Stderr);
    }
}
