using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using OpenVision.Onnx;

namespace OpenVision.Lab.Benchmarks.Onnx;

/// <summary>Time spent in one operator type over the profiled runs.</summary>
/// <param name="OpType">ONNX Runtime's op type after optimisation (com.microsoft ops such as FusedMatMul included).</param>
/// <param name="Calls">Kernel calls over all profiled runs.</param>
/// <param name="Milliseconds">Kernel time per run.</param>
/// <param name="Share">Fraction of all kernel time.</param>
public sealed record OnnxOpTime(string OpType, int Calls, double Milliseconds, double Share);

/// <summary>What ONNX Runtime made of a graph and where its time goes.</summary>
/// <param name="ExportedOps">Node count per op type of the graph as written (domain-qualified when not ai.onnx).</param>
/// <param name="OptimizedOps">Node count per op type after the session's graph optimisations.</param>
/// <param name="Kernels">Kernel time per op type, largest first.</param>
/// <param name="Runs">Profiled runs.</param>
/// <param name="CpuSecondsPerRun">Process CPU seconds per profiled run (all threads; less disturbed by other processes than wall time).</param>
public sealed record OnnxProfile(IReadOnlyDictionary<string, int> ExportedOps, IReadOnlyDictionary<string, int> OptimizedOps,
    IReadOnlyList<OnnxOpTime> Kernels, int Runs, double CpuSecondsPerRun);

/// <summary>Profiles one graph under ONNX Runtime: the op types before and after the session's optimisations (from
/// <see cref="SessionOptions.OptimizedModelFilePath"/>) and the per-op kernel times of ONNX Runtime's own profiler,
/// which count each kernel's time and so say where the time goes even on a machine shared with other work.</summary>
public static class OnnxProfiler
{
    /// <param name="modelPath">The .onnx file (one float input).</param>
    /// <param name="inputShape">Shape fed to the graph's only input (random values).</param>
    /// <param name="options">Session settings (the same ones the backend uses).</param>
    /// <param name="runs">Profiled runs after one unprofiled warm-up.</param>
    /// <param name="workFolder">Where the optimised model and the profile JSON are written (kept for inspection).</param>
    public static OnnxProfile Profile(string modelPath, long[] inputShape, OnnxRuntimeOptions options, int runs, string workFolder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        Directory.CreateDirectory(workFolder);
        var exported = OpTypes(modelPath);
        string optimizedPath = Path.Combine(workFolder, Path.GetFileNameWithoutExtension(modelPath) + ".optimized.onnx");
        using (var sessionOptions = options.CreateSessionOptions())
        {
            sessionOptions.OptimizedModelFilePath = optimizedPath;
            using var _ = new InferenceSession(modelPath, sessionOptions);
        }
        var optimized = OpTypes(optimizedPath);

        var random = new Random(0);
        var data = new float[inputShape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        using var input = OrtValue.CreateTensorValueFromMemory(data, inputShape);
        string profilePath;
        double cpuSeconds;
        using (var sessionOptions = options.CreateSessionOptions())
        {
            // The prefix first: setting EnableProfiling passes the prefix set at that moment to ONNX Runtime.
            sessionOptions.ProfileOutputPathPrefix = Path.Combine(workFolder, Path.GetFileNameWithoutExtension(modelPath) + "-profile");
            sessionOptions.EnableProfiling = true;
            using var session = new InferenceSession(modelPath, sessionOptions);
            using var runOptions = new RunOptions();
            string[] inputNames = [session.InputNames[0]], outputNames = session.OutputNames.ToArray();
            OrtValue[] inputs = [input];
            using (session.Run(runOptions, inputNames, inputs, outputNames)) { }     // warm-up (also profiled: excluded below)
            var process = Process.GetCurrentProcess();
            var cpuStart = process.TotalProcessorTime;
            for (int i = 0; i < runs; i++)
                using (session.Run(runOptions, inputNames, inputs, outputNames)) { }
            process.Refresh();
            cpuSeconds = (process.TotalProcessorTime - cpuStart).TotalSeconds;
            profilePath = session.EndProfiling();
        }
        return new OnnxProfile(exported, optimized, KernelTimes(profilePath, runs), runs, cpuSeconds / runs);
    }

    /// <summary>Node count per op type of an .onnx file (see <see cref="OnnxOperators.Count"/>).</summary>
    public static IReadOnlyDictionary<string, int> OpTypes(string path) => OnnxOperators.Count(path);

    // ONNX Runtime's profile is a Chrome trace: one "Node" event per kernel call named "<node>_kernel_time", with the op type
    // in args.op_name. The first run is the warm-up; its events are recognised by the "model_run" events that delimit runs.
    private static IReadOnlyList<OnnxOpTime> KernelTimes(string profilePath, int runs)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(profilePath));
        long warmupEnd = document.RootElement.EnumerateArray()
            .Where(e => e.GetProperty("name").GetString() == "model_run")
            .Select(e => e.GetProperty("ts").GetInt64() + e.GetProperty("dur").GetInt64())
            .DefaultIfEmpty(long.MinValue).Min();
        var totals = new Dictionary<string, (int Calls, long Micros)>();
        foreach (var e in document.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node" || e.GetProperty("name").GetString() is not { } name || !name.EndsWith("_kernel_time", StringComparison.Ordinal))
                continue;
            if (e.GetProperty("ts").GetInt64() < warmupEnd) continue;
            string op = e.GetProperty("args").GetProperty("op_name").GetString() ?? "?";
            var (calls, micros) = totals.GetValueOrDefault(op);
            totals[op] = (calls + 1, micros + e.GetProperty("dur").GetInt64());
        }
        double all = Math.Max(1, totals.Values.Sum(t => t.Micros));
        return totals.OrderByDescending(t => t.Value.Micros)
            .Select(t => new OnnxOpTime(t.Key, t.Value.Calls, t.Value.Micros / 1000.0 / runs, t.Value.Micros / all)).ToList();
    }
}
