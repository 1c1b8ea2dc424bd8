using OpenVision.Lab.Benchmarks;
using OpenVision.Lab.Benchmarks.Onnx;
using OpenVision.Lab.Benchmarks.Precision;

namespace OpenVision.Lab.Tests.Benchmarks;

/// <summary>The arithmetic under <c>bench precision</c> and the ratio lines <c>bench</c> prints under a model's rows.</summary>
public class PrecisionSummaryTests
{
    [Fact]
    public void AgreementCountsEqualTopOnePositions()
    {
        Assert.Equal(1.0, PrecisionAgreement.Agreement([1, 2, 3, 4], [1, 2, 3, 4]));
        Assert.Equal(0.75, PrecisionAgreement.Agreement([1, 2, 3, 4], [1, 2, 0, 4]));
        Assert.Equal(0.0, PrecisionAgreement.Agreement([1, 2], [2, 1]));
    }

    [Fact]
    public void DifferentImageCountsAreRefusedNotCompared()
    {
        var error = Assert.Throws<InvalidDataException>(() => PrecisionAgreement.Agreement([1, 2, 3], [1, 2], "int8 (ONNX Runtime)"));
        Assert.Contains("int8 (ONNX Runtime) classified 2 images, float32 3", error.Message);
        Assert.Throws<InvalidDataException>(() => PrecisionAgreement.Agreement([], []));
    }

    [Fact]
    public void SummaryNamesTheFasterBackendAndTheRatiosOfTheSameRun()
    {
        BenchmarkResult Row(string task, string dtype, int batch, double rate) => new("m", task, dtype, batch, rate, 0, null);
        var rows = new[]
        {
            Row("encode_image", "Float32", 1, 50), Row("encode_image[onnx]", "Float32", 1, 60), Row("encode_image", "BFloat16", 1, 75),
            Row("encode_image", "Float32", 32, 100), Row("encode_image[onnx]", "Float32", 32, 40), Row("encode_image[onnx-int8]", "Int8", 32, 80),
            Row("end_to_end", "Float32", 32, 90), Row("model_only", "Float32", 32, 96),
        };
        var lines = BenchmarkSummary.Lines(rows).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Contains("batch 1: fastest fp32: onnx (onnx/torch 1.20x); bf16/fp32 torch 1.50x", lines[0]);
        Assert.Contains("batch 32: fastest fp32: torch (onnx/torch 0.40x); int8/fp32 onnx 2.00x, int8 onnx/fp32 torch 0.80x", lines[1]);
        // Against the model-only row timed alternately with it, not the encode_image row measured earlier (90.0 %).
        Assert.Contains("end to end / model only (alternating batches) at batch 32: 93.8 %", lines[2]);
        Assert.Empty(BenchmarkSummary.Lines([Row("encode_image", "Float32", 8, 10)]));   // nothing to compare with
        Assert.Empty(BenchmarkSummary.Lines([Row("encode_image", "Float32", 32, 100), Row("end_to_end", "Float32", 32, 90)]));
    }

    [Fact]
    public void TheFastestBackendComesFromTheDefaultPathTimedInOnnxRuntimesBlocks()
    {
        BenchmarkResult Row(string task, int batch, double rate) => new("m", task, "Float32", batch, rate, 0, null);
        // The default path's own row (50) says onnx; the same path timed in the ONNX blocks (66) says torch.
        var rows = new[] { Row("encode_image", 1, 50), Row("encode_image[onnx]", 1, 60), Row("encode_image[ort-plain]", 1, 64), Row(OnnxBenchmark.DefaultTask, 1, 66) };
        Assert.Contains("batch 1: fastest fp32: torch (onnx/torch 0.91x, same blocks)", Assert.Single(BenchmarkSummary.Lines(rows)));
        // Against the faster of the two ONNX Runtime paths of the same blocks: here the plain session.
        var run = new OnnxBenchmarkRun(rows[1], rows[2], null, 1, null, rows[3]);
        Assert.Equal(66.0 / 64, run.DefaultOverFastestOrt!.Value, 12);
        Assert.Null((run with { Default = null }).DefaultOverFastestOrt);
        // Against ONNX Runtime as one backend: both paths' calls pooled where timed, else the mean of their rates.
        Assert.Equal(66.0 / 62, run.DefaultOverOrt!.Value, 12);
        Assert.Equal(66.0 / 61, (run with { PooledOrtItemsPerSecond = 61 }).DefaultOverOrt!.Value, 12);
        Assert.Null((run with { Default = null }).DefaultOverOrt);
    }

    [Fact]
    public void UnderBackgroundLoadTheAdaptiveRowIsComparedWithAllThreads()
    {
        BenchmarkResult Row(string task, int batch, double rate) => new("m", task, "Float32", batch, rate, 0, null);
        var lines = BenchmarkSummary.Lines([Row("encode_image", 1, 16), Row(ThroughputBenchmark.AllThreadsTask, 1, 4), Row("encode_image[onnx]", 1, 8)]).ToList();
        Assert.Contains("batch 1: fastest fp32: torch (onnx/torch 0.50x); adaptive/all threads torch 4.00x", Assert.Single(lines));
    }
}
