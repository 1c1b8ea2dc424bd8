using System.Globalization;
using OpenVision.Lab.Benchmarks.Onnx;

namespace OpenVision.Lab.Benchmarks;

/// <summary>The ratios <c>openvision bench</c> prints under a model's rows, from figures of the same run: which backend
/// was fastest at each batch size (what <c>--backend fastest</c> would choose; from the default path's timing in the ONNX
/// blocks where there is one), bf16 and int8 against float32, the float32 block kernels against libtorch's operations, and the
/// end-to-end folder rate against the model alone, timed alternately with it.</summary>
public static class BenchmarkSummary
{
    /// <summary>One line per comparison the rows allow; none when a side is missing.</summary>
    /// <param name="rows">One model's rows.</param>
    public static IEnumerable<string> Lines(IReadOnlyList<BenchmarkResult> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        string Ratio(double a, double b) => string.Create(CultureInfo.InvariantCulture, $"{a / b:F2}x");
        foreach (int batch in rows.Select(r => r.BatchSize).Distinct().Order())
        {
            var torch = Find(rows, "encode_image", "Float32", batch);
            var onnx = Find(rows, "encode_image[onnx]", "Float32", batch);
            var parts = new List<string>();
            // The default path timed in the same blocks as ONNX Runtime, where it was, rather than its own row.
            var alternating = Find(rows, OnnxBenchmark.DefaultTask, "Float32", batch);
            if ((alternating ?? torch) is { } compared && onnx is not null)
                parts.Add($"fastest fp32: {(onnx.ItemsPerSecond > compared.ItemsPerSecond ? "onnx" : "torch")} (onnx/torch {Ratio(onnx.ItemsPerSecond, compared.ItemsPerSecond)}" +
                    (alternating is null ? ")" : ", same blocks)"));
            if (torch is not null && Find(rows, ThroughputBenchmark.AllThreadsTask, "Float32", batch) is { } allThreads)
                parts.Add($"adaptive/all threads torch {Ratio(torch.ItemsPerSecond, allThreads.ItemsPerSecond)}");
            if (Find(rows, EncodeBenchmark.KernelsTask, "Float32", batch) is { } kernels && Find(rows, EncodeBenchmark.LibtorchOpsTask, "Float32", batch) is { } libtorchOps)
                parts.Add($"fp32 kernels/libtorch ops {Ratio(kernels.ItemsPerSecond, libtorchOps.ItemsPerSecond)}");
            if (torch is not null && Find(rows, "encode_image", "BFloat16", batch) is { } bf16)
                parts.Add($"bf16/fp32 torch {Ratio(bf16.ItemsPerSecond, torch.ItemsPerSecond)}");
            if (onnx is not null && Find(rows, "encode_image[onnx-int8]", "Int8", batch) is { } int8)
                parts.Add($"int8/fp32 onnx {Ratio(int8.ItemsPerSecond, onnx.ItemsPerSecond)}" + (torch is null ? "" : $", int8 onnx/fp32 torch {Ratio(int8.ItemsPerSecond, torch.ItemsPerSecond)}"));
            if (parts.Count > 0) yield return $"{"",34} batch {batch}: {string.Join("; ", parts)}";
        }
        if (rows.FirstOrDefault(r => r.Task == "end_to_end") is { } endToEnd && Find(rows, "model_only", endToEnd.DType, endToEnd.BatchSize) is { } model)
            yield return $"{"",34} end to end / model only (alternating batches) at batch {endToEnd.BatchSize}: {endToEnd.ItemsPerSecond / model.ItemsPerSecond:P1} (goal: at least 90 %)";
    }

    /// <summary>The row of one task, dtype and batch size, or null.</summary>
    internal static BenchmarkResult? Find(IReadOnlyList<BenchmarkResult> rows, string task, string dtype, int batch) =>
        rows.FirstOrDefault(r => r.Task == task && r.DType == dtype && r.BatchSize == batch);
}
