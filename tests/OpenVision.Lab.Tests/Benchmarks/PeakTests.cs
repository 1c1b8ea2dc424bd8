using OpenVision.Lab.Benchmarks;

namespace OpenVision.Lab.Tests.Benchmarks;

public class PeakTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("openvision-peak-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly MachineInfo Machine = new("Test CPU 9000", 2, 3000, 64, false);

    // Each iteration runs one FMA per accumulator, each FMA adds 1 to every lane: FLOPs = 2 × lanes × accumulators × iterations,
    // counted from the lanes the kernel summed, so a loop that skipped an accumulator or an iteration would come out short.
    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(FmaPeakKernel.MaxIterationsPerCall)]
    public void TheKernelCountsTwoFlopsPerLanePerFma(long iterations) =>
        Assert.Equal(2L * FmaPeakKernel.Lanes * FmaPeakKernel.Accumulators * iterations, FmaPeakKernel.Run(iterations));

    // The estimate's FLOPs per cycle from /proc/cpuinfo fields, as on the machines this project has run on.
    [Theory]
    [InlineData("AuthenticAMD", 26, "fpu sse2 avx avx2 fma avx512f avx512_bf16", 64)]   // Zen 5: 512-bit units
    [InlineData("AuthenticAMD", 25, "fpu sse2 avx avx2 fma avx512f avx512_bf16", 32)]   // Zen 4: AVX-512 on 256-bit units
    [InlineData("AuthenticAMD", 25, "fpu sse2 avx avx2 fma", 32)]                       // Zen 3
    [InlineData("GenuineIntel", 6, "fpu sse2 avx avx2 fma avx512f avx512_bf16", 64)]
    [InlineData("GenuineIntel", 6, "fpu sse2 avx avx2", 8)]                             // AVX2 without FMA
    [InlineData("GenuineIntel", 6, "fpu sse2 avx512fx avx2x fma", 8)]                   // whole flags only
    public void TheEstimateCountsTheWidthOfTheFmaUnits(string vendor, int family, string flags, int perCycle) =>
        Assert.Equal(perCycle, MachineInfo.Float32FlopsPerCycleOf(vendor, family, flags));

    [Fact]
    public void NoIterationsNoFlops() => Assert.Equal(0, FmaPeakKernel.Run(0));

    [Fact]
    public void RefusesRunsWhoseLaneSumsWouldRound() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeakKernel.Run(FmaPeakKernel.MaxIterationsPerCall + 1));

    [Fact]
    public void TheKernelRunsOnEveryThreadAndReportsAPositiveRate() =>
        Assert.True(PeakMeter.Float32Gflops(2, TimeSpan.FromMilliseconds(30)) > 0);

    [Fact]
    public void ARowAboveTheCachedPeakAsksForANewMeasurement()
    {
        var peak = Peak(300);
        BenchmarkResult Row(string dtype, double gflops) => new("openvision-vit-tiny-patch16-224", "encode_image", dtype, 32, 100, gflops, null);
        Assert.Null(ThroughputBenchmark.PeakOvertaken(peak, [Row("Float32", 290), Row("BFloat16", 450)]));
        var warning = ThroughputBenchmark.PeakOvertaken(peak, [Row("Float32", 290), Row("Float32", 310)]);
        Assert.Equal($"warning: openvision-vit-tiny-patch16-224 encode_image batch 32 ran at 310 GFLOP/s, above the fp32 peak of 300 measured " +
            $"{peak.MeasuredAtUtc:yyyy-MM-dd HH:mm}Z (other work shared the cores then): rerun with --remeasure-peak", warning);
    }

    [Fact]
    public void FractionsAreOfTheMeasuredPeakNotTheEstimate()
    {
        new PeakCache(_folder).Save(Machine, Peak(400));
        var peak = ThroughputBenchmark.ResolvePeak(new ThroughputBenchmarkOptions { PeakCacheFolder = _folder }, Machine);
        Assert.Equal(400, peak.Float32Gflops);
        Assert.Equal(0.25, peak.FractionOfFloat32(100), 1e-12);
        Assert.NotEqual(Machine.PeakFloat32Gflops, peak.Float32Gflops);   // 2 × 3 GHz × 64 = 384: the control that the two differ
    }

    [Theory]
    [InlineData(159, "0.53x: this CPU's bf16 dot products are slower")]   // an Intel Xeon with AVX512-BF16, 298 fp32
    [InlineData(877, "2.93x: bf16 can gain up to that")]
    public void TheHeaderSaysWhatTheBf16PeakAllows(double bf16Gflops, string expected)
    {
        var peak = new MeasuredPeak("cpu", 2, 299, "fp32 FMA loop", bf16Gflops,
            $"{PeakMeter.BFloat16LoopMethod}, 2 threads x 16 accumulators", DateTime.UtcNow);
        Assert.Contains(expected, peak.BFloat16Outlook());
    }

    [Fact]
    public void AGemmRateIsNotCalledAPeak()
    {
        var peak = new MeasuredPeak("cpu", 2, 300, "fp32 FMA loop", 150, "achieved (libtorch bf16 GEMM)", DateTime.UtcNow);
        Assert.Equal("bf16/fp32 rates 0.50x (bf16 from a GEMM, a lower bound)", peak.BFloat16Outlook());
        Assert.Null((peak with { BFloat16Gflops = null, BFloat16Method = null }).BFloat16Outlook());
    }

    [Fact]
    public void AnEmulatedBf16IsNamed()
    {
        // A 2-core AVX2 EPYC (Zen 1): libtorch's bf16 GEMM at 0.16 GFLOP/s against an fp32 FMA peak of 70.
        var emulated = new MeasuredPeak("cpu", 2, 70.3, "fp32 FMA loop", 0.1595, "achieved (libtorch bf16 GEMM 512^3, best of 1)", DateTime.UtcNow);
        Assert.True(emulated.BFloat16Emulated);
        Assert.Equal("bf16/fp32 rates 0.0023x (bf16 from a GEMM): this CPU has no bf16 arithmetic and libtorch emulates it, so bf16 is slower than fp32 here",
            emulated.BFloat16Outlook());

        // Controls: a GEMM at half the fp32 peak, a dot-product loop below a twentieth of it, and no bf16 figure.
        Assert.False((emulated with { BFloat16Gflops = 35 }).BFloat16Emulated);
        Assert.False((emulated with { BFloat16Gflops = 1, BFloat16Method = PeakMeter.BFloat16LoopMethod }).BFloat16Emulated);
        Assert.False((emulated with { BFloat16Gflops = null, BFloat16Method = null }).BFloat16Emulated);
    }

    [Fact]
    public void OnlyALoopPeakGivesBf16RowsAFraction()
    {
        var row = new BenchmarkResult("openvision-vit-tiny-patch16-224", "encode_image", "BFloat16", 8, 3.7, 9.3, 6.4e-3);
        var loop = new MeasuredPeak("cpu", 2, 300, "fp32 FMA loop", 600, PeakMeter.BFloat16LoopMethod, DateTime.UtcNow);
        Assert.EndsWith("  1.6% of bf16", ThroughputBenchmark.RowLine(row, loop, Machine));
        Assert.DoesNotContain("of bf16", ThroughputBenchmark.RowLine(row, loop with { BFloat16Gflops = 0.72, BFloat16Method = "achieved (libtorch bf16 GEMM 1024^3, best of 1)" }, Machine));
        Assert.DoesNotContain("of bf16", ThroughputBenchmark.RowLine(row with { DType = "Float32" }, loop, Machine));
    }

    [Theory]
    [InlineData(0.15949, "0.16")]
    [InlineData(7.26, "7.3")]
    [InlineData(70.32, "70")]
    [InlineData(812.6, "813")]
    public void SmallRatesKeepTwoSignificantDigits(double gflops, string expected) => Assert.Equal(expected, MeasuredPeak.FormatGflops(gflops));

    [Fact]
    public void TheBf16GemmStaysWithinItsSizeAndRepetitions()
    {
        var (gflops, size, repetitions) = PeakMeter.BFloat16GemmGflops(maxSize: 512, repetitions: 2);
        Assert.True(gflops > 0);
        Assert.Contains(size, new[] { 256, 512 });
        Assert.InRange(repetitions, 1, 2);
    }

    [Fact]
    public void APeakMeasuredWhileTheCoresWereSharedIsMeasuredAgain()
    {
        var cache = new PeakCache(_folder);
        cache.Save(Machine, Peak(118) with { SharedCores = true });
        Assert.True(cache.Load(Machine)!.SharedCores);   // the flag survives the cache file
        Assert.Equal(424, cache.GetOrMeasure(Machine, remeasure: false, () => Peak(424), ThroughputBenchmark.PeakIsStale).Float32Gflops);

        cache.Save(Machine, Peak(400));                   // the control: a quiet measurement is kept
        Assert.False(cache.Load(Machine)!.SharedCores);
        Assert.Equal(400, cache.GetOrMeasure(Machine, remeasure: false, () => Peak(424), ThroughputBenchmark.PeakIsStale).Float32Gflops);
    }

    [Fact]
    public void AManualPeakOverridesTheCache()
    {
        new PeakCache(_folder).Save(Machine, Peak(400));
        var peak = ThroughputBenchmark.ResolvePeak(new ThroughputBenchmarkOptions { PeakCacheFolder = _folder, PeakGflops = 250 }, Machine);
        Assert.Equal(250, peak.Float32Gflops);
        Assert.Contains("--peak-gflops", peak.Float32Method);
    }

    [Fact]
    public void TheCacheIsReusedUntilARemeasureIsAsked()
    {
        var cache = new PeakCache(_folder);
        int measured = 0;
        MeasuredPeak Measure() => Peak(100 * ++measured);
        Assert.Equal(100, cache.GetOrMeasure(Machine, remeasure: false, Measure).Float32Gflops);
        Assert.Equal(100, cache.GetOrMeasure(Machine, remeasure: false, Measure).Float32Gflops);
        Assert.Equal(1, measured);
        Assert.Equal(200, cache.GetOrMeasure(Machine, remeasure: true, Measure).Float32Gflops);
        Assert.Equal(200, cache.Load(Machine)!.Float32Gflops);
    }

    // Figures measured in a superseded way (the bf16 GEMM rate before the vdpbf16ps loop) are measured again.
    [Fact]
    public void StaleFiguresAreMeasuredAgain()
    {
        var cache = new PeakCache(_folder);
        int measured = 0;
        MeasuredPeak Measure() => Peak(100 * ++measured);
        cache.Save(Machine, Peak(400) with { BFloat16Method = "achieved (libtorch bf16 GEMM 2048^3, best of 3)" });
        Assert.Equal(400, cache.GetOrMeasure(Machine, remeasure: false, Measure, stale: _ => false).Float32Gflops);
        Assert.Equal(100, cache.GetOrMeasure(Machine, remeasure: false, Measure, stale: p => !p.BFloat16Method!.StartsWith(PeakMeter.BFloat16LoopMethod)).Float32Gflops);
        Assert.Equal(100, cache.GetOrMeasure(Machine, remeasure: false, Measure, stale: p => !p.BFloat16Method!.StartsWith(PeakMeter.BFloat16LoopMethod)).Float32Gflops);
        Assert.Equal(1, measured);
    }

    [Fact]
    public void AnotherCpusFiguresAreNotUsed()
    {
        var cache = new PeakCache(_folder);
        cache.Save(Machine, Peak(400) with { CpuModel = "Other CPU" });
        Assert.Null(cache.Load(Machine));
        Assert.NotEqual(cache.PathFor(Machine), cache.PathFor(Machine with { Cores = 4 }));
    }

    [Fact]
    public void ACorruptCacheFileIsNamed()
    {
        var cache = new PeakCache(_folder);
        File.WriteAllText(cache.PathFor(Machine), "{ not json");
        var error = Assert.Throws<InvalidDataException>(() => cache.Load(Machine));
        Assert.Contains(cache.PathFor(Machine), error.Message);
    }

    // Nearest rank on 1..100: p50 is 50, p99 is 99; on five values p99 is the slowest.
    [Fact]
    public void PercentilesUseTheNearestRank()
    {
        var hundred = Enumerable.Range(1, 100).Select(i => (double)(101 - i)).ToArray();
        Assert.Equal(50, LatencyBenchmark.Percentile(hundred, 50));
        Assert.Equal(99, LatencyBenchmark.Percentile(hundred, 99));
        Assert.Equal(9, LatencyBenchmark.Percentile([3, 9, 1, 4, 2], 99));
        Assert.Equal(3, LatencyBenchmark.Percentile([3, 9, 1, 4, 2], 50));
    }

    private static MeasuredPeak Peak(double gflops) =>
        new(Machine.CpuModel, Machine.Cores, gflops, "test", 2 * gflops, $"{PeakMeter.BFloat16LoopMethod}, test", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
}
