using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests.Cli;

/// <summary><c>openvision bench --backend onnx --onnx-file FILE</c>: another exporter's vision graph timed next to ours,
/// checked first against TorchSharp. These use a file from our own exporter (no Python needed);
/// <see cref="TorchOnnxExportTests"/> does the same with PyTorch's exporter.</summary>
public class ExternalGraphBenchTests
{
    private const string Name = "ovtest-mini-p8-40";

    [Fact]
    public void AGraphOfTheSameWeightsIsCheckedAndTimedInTheSameTable()
    {
        var (folder, manifest) = Exports.Reference(Name);
        string file = Path.Combine(folder, manifest.FilesFor(OnnxPrecision.Float32).Vision);
        var rows = BenchAndReadRows(ReferenceModels.Folder(Name), file, out var result);

        Assert.Contains("producer OpenVision.NET", result.Stdout);
        Assert.Contains("matches TorchSharp's encode_image", result.Stdout);
        AssertTimedNextToTheAnchor(rows, "encode_image[ort-openvision.net]");
    }

    [Fact]
    public void AGraphOfOtherWeightsIsReportedAndNotTimed()
    {
        // Same architecture, fresh random weights: the shapes fit, the numbers do not.
        var config = ConfigJson.Load(Path.Combine(ReferenceModels.Folder(Name), ModelFiles.Config), Name);
        string folder = Exports.TempFolder("other-weights");
        using (var model = ModelFactory.Create(config)) OnnxExporter.Export(model, folder);
        string file = Path.Combine(folder, OnnxManifest.Load(folder).FilesFor(OnnxPrecision.Float32).Vision);

        var result = CliProcess.Run(null, "bench", "--models", ReferenceModels.Folder(Name), "--backend", "onnx", "--onnx-file", file,
            "--batch-sizes", "1", "--seconds", "0.05");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does NOT match TorchSharp's encode_image", result.Stderr);
        Assert.DoesNotContain("encode_image[", result.Stdout);
    }

    [Fact]
    public void ArgumentsThatCannotWorkAreUserErrors()
    {
        var (folder, manifest) = Exports.Reference(Name);
        string file = Path.Combine(folder, manifest.FilesFor(OnnxPrecision.Float32).Vision);
        string model = ReferenceModels.Folder(Name);
        (string[] Args, string Message)[] cases =
        [
            (["--models", model, "--onnx-file", file], "--onnx-file needs --backend onnx or all"),
            (["--models", model, model, "--backend", "onnx", "--onnx-file", file], "exactly one model"),
            (["--models", model, "--backend", "onnx", "--onnx-file", Path.Combine(folder, "missing.onnx")], "missing.onnx not found"),
            (["--models", model, "--backend", "onnx", "--onnx-file", Path.Combine(folder, OnnxManifest.FileName)], "ONNX Runtime cannot load it"),
            (["--models", ReferenceModels.Folder("ovtest-mini-p16-64"), "--backend", "onnx", "--onnx-file", file], "export at the model's size (64 px)"),
        ];
        foreach (var (args, message) in cases)
        {
            var result = CliProcess.Run(null, ["bench", .. args, "--batch-sizes", "1", "--seconds", "0.05"]);
            Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)}: exit {result.ExitCode}, {result.Stderr}");
            Assert.Contains(message, result.Stderr);
        }
    }

    /// <summary>Runs the bench on <paramref name="model"/> with <paramref name="onnxFile"/> at batch sizes 1 and 2 and returns its JSON rows.</summary>
    internal static List<JsonElement> BenchAndReadRows(string model, string onnxFile, out CliProcess.Result result)
    {
        string json = Path.Combine(Exports.TempFolder("bench-json"), "bench.json");
        result = CliProcess.Run(null, "bench", "--models", model, "--backend", "onnx", "--onnx-file", onnxFile,
            "--batch-sizes", "1", "2", "--seconds", "0.05", "--json", json);
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        return document.RootElement.GetProperty("results").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>One row per batch size for ours, the anchor and the external graph, the latter with its error vs TorchSharp.</summary>
    internal static void AssertTimedNextToTheAnchor(List<JsonElement> rows, string externalTask)
    {
        foreach (string task in new[] { "encode_image[onnx]", "encode_image[ort-plain]", externalTask })
        {
            var timed = rows.Where(r => r.GetProperty("Task").GetString() == task).ToList();
            Assert.True(timed.Select(r => r.GetProperty("BatchSize").GetInt32()).SequenceEqual([1, 2]), $"{task}: {timed.Count} rows");
            Assert.All(timed, r => Assert.True(r.GetProperty("ItemsPerSecond").GetDouble() > 0 && r.GetProperty("GflopsPerSecond").GetDouble() > 0));
        }
        Assert.All(rows.Where(r => r.GetProperty("Task").GetString() == externalTask),
            r => Assert.InRange(r.GetProperty("RelativeErrorVsFloat32").GetDouble(), 0, 1e-4));
    }
}
