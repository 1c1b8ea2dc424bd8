using System.Diagnostics;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests.Cli;

/// <summary>benchmarks/pytorch/export_onnx.py (PyTorch's own exporter) end to end: the real script under Debian's
/// /usr/bin/python3 with python3-torch (CI installs it from .ci/apt-packages.txt; without it these fail and say so),
/// then <c>openvision bench --onnx-file</c> on its output.</summary>
public class TorchOnnxExportTests
{
    private const string Name = "ovtest-mini-p8-40";

    // Two heads: torch 1.13's MultiheadAttention takes its unexportable inference fast path only for an even head count.
    private const string EvenHeads = "ovtest-mini-p16-64";
    private const string Python = "/usr/bin/python3";

    [Fact]
    public void ExportOfACheckpointMatchesTorchSharpAndIsTimed()
    {
        string file = Path.Combine(Exports.TempFolder("torch-onnx"), "vision.torch.onnx");
        var export = RunScript(ReferenceModels.Folder(Name), "--output", file);
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Contains("not normalised", export.Stdout);

        var rows = ExternalGraphBenchTests.BenchAndReadRows(ReferenceModels.Folder(Name), file, out var bench);
        Assert.Contains("producer pytorch", bench.Stdout);
        Assert.Contains("output not normalised", bench.Stdout);
        ExternalGraphBenchTests.AssertTimedNextToTheAnchor(rows, "encode_image[ort-pytorch]");
    }

    [Fact]
    public void RandomInitSavesTheWeightsTheBenchLoads()
    {
        // A config without weights: the script initialises, saves an open_clip folder (C# loads it strictly) and exports.
        string work = Exports.TempFolder("torch-onnx-random");
        string model = Path.Combine(work, "model"), file = Path.Combine(work, "vision.torch.onnx");
        string config = Path.Combine(ReferenceModels.Folder(EvenHeads), ModelFiles.Config);
        var refused = RunScript(config, "--output", file);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--save-model", refused.Stderr);

        var export = RunScript(config, "--save-model", model, "--output", file, "--normalize", "--seed", "3");
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.True(File.Exists(Path.Combine(model, ModelFiles.Safetensors)));

        var rows = ExternalGraphBenchTests.BenchAndReadRows(model, file, out var bench);
        Assert.Contains("L2-normalised output", bench.Stdout);
        ExternalGraphBenchTests.AssertTimedNextToTheAnchor(rows, "encode_image[ort-pytorch]");

        // Not the reference weights: the same graph against the reference checkpoint must be refused.
        var other = CliProcess.Run(null, "bench", "--models", ReferenceModels.Folder(EvenHeads), "--backend", "onnx", "--onnx-file", file,
            "--batch-sizes", "1", "--seconds", "0.05");
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("does NOT match", other.Stderr);
    }

    private static readonly Lazy<string?> TorchProblem = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} not found";
        var check = Start("-c", "import torch, numpy");
        return check.ExitCode == 0 ? null : $"{Python} cannot import torch and numpy ({check.Stderr.Trim()})";
    });

    private static CliProcess.Result RunScript(params string[] args)
    {
        if (TorchProblem.Value is { } problem)
            Assert.Fail($"{problem}: these tests need Debian's python3-torch (apt-get install python3-torch; CI installs it from .ci/apt-packages.txt)");
        return Start([Path.Combine(ReferenceData.RepoRoot, "benchmarks", "pytorch", "export_onnx.py"), .. args]);
    }

    private static CliProcess.Result Start(params string[] args)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); throw new TimeoutException("python did not finish: " + string.Join(' ', args)); }
        return new CliProcess.Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
