using System.Diagnostics;
using OpenVision.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks;

/// <summary>Measures the machine's peaks: <see cref="FmaPeakKernel"/> on one thread per logical processor for fp32, and
/// for bf16 the bf16 kernels' <c>vdpbf16ps</c> loop (.NET 10 has no such intrinsic; the loop is in
/// <c>libopenvision_bf16.so</c>) where the CPU has AVX512-BF16, otherwise libtorch's bf16 matmul of large square
/// matrices (the best GEMM rate achieved, labelled as such, not a peak).</summary>
public static class PeakMeter
{
    /// <summary>Measures both figures for <paramref name="machine"/>; <paramref name="perThread"/> is the timed span of
    /// the FMA loop (after a warm-up of a third of it).</summary>
    public static MeasuredPeak Measure(MachineInfo machine, TimeSpan perThread, int bf16MaxSize = 2048)
    {
        double? load = LoadAverage();
        string busy = load > 0.5 * machine.Cores ? $", load average {load:F1} (other work shared the cores: understated, rerun with --remeasure-peak when quiet)" : "";
        double fp32 = LoopGflops(machine.Cores, perThread, FmaPeakKernel.Run);
        string bf16Method;
        double bf16;
        if (BFloat16Ops.PeakLoop(1) > 0)
        {
            bf16 = LoopGflops(machine.Cores, perThread, rounds => BFloat16Ops.PeakLoop(rounds / 16));
            bf16Method = $"{BFloat16LoopMethod}, {machine.Cores} threads x 16 accumulators, {perThread.TotalSeconds:F1} s after warm-up{busy}";
        }
        else
        {
            var gemm = BFloat16GemmGflops(bf16MaxSize, repetitions: 3);
            bf16 = gemm.Gflops;
            bf16Method = $"achieved (libtorch bf16 GEMM {gemm.Size}^3, best of {gemm.Repetitions}; not a peak: the CPU has no AVX512-BF16 or the bf16 kernels are absent)";
        }
        return new MeasuredPeak(machine.CpuModel, machine.Cores, fp32,
            $"fp32 FMA loop, {machine.Cores} threads x {FmaPeakKernel.Lanes} lanes x {FmaPeakKernel.Accumulators} accumulators, {perThread.TotalSeconds:F1} s after warm-up{busy}",
            bf16, bf16Method, DateTime.UtcNow) { SharedCores = busy.Length > 0 };
    }

    /// <summary>How the bf16 peak is measured where the CPU has the instruction; a cached figure measured otherwise
    /// (before the loop existed) is measured again.</summary>
    public const string BFloat16LoopMethod = "bf16 dot-product loop (vdpbf16ps)";

    // The 1-minute load average (Linux), so that a peak measured while other processes ran says so.
    private static double? LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out var load) ? load : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>GFLOP/s of <see cref="FmaPeakKernel"/> on <paramref name="threads"/> threads started together, each
    /// running its loop for <paramref name="perThread"/> after a warm-up.</summary>
    public static double Float32Gflops(int threads, TimeSpan perThread) => LoopGflops(threads, perThread, FmaPeakKernel.Run);

    // loop(n): runs about n units of work and returns the FLOPs done.
    private static double LoopGflops(int threads, TimeSpan perThread, Func<long, long> loop)
    {
        const long chunk = 1 << 16;
        var flops = new long[threads];
        var seconds = new double[threads];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed < perThread / 3) loop(chunk);
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            long done = 0;
            while (clock.Elapsed < perThread) done += loop(chunk);
            seconds[t] = clock.Elapsed.TotalSeconds;
            flops[t] = done;
        }) { IsBackground = true, Priority = ThreadPriority.Highest }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        return Enumerable.Range(0, threads).Sum(t => flops[t] / seconds[t]) / 1e9;
    }

    /// <summary>Best GFLOP/s of libtorch's bf16 matmul of two square matrices (2·n³ FLOPs), after one warm-up call at the
    /// smallest size. The size doubles from 256 up to <paramref name="maxSize"/> while a call takes under a quarter of a
    /// second, and slow calls are repeated less: where the CPU has no bf16 arithmetic libtorch emulates it at a fraction of a
    /// GFLOP/s (0.16 on a 2-core AVX2 EPYC), and a 2048² product would take nearly two minutes a call.</summary>
    /// <returns>The rate, the size it was measured at and the number of timed calls.</returns>
    public static (double Gflops, int Size, int Repetitions) BFloat16GemmGflops(int maxSize, int repetitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        int size = Math.Min(256, maxSize);
        double seconds = BestMatmulSeconds(size, calls: 2); // the first call warms up
        while (seconds < 0.25 && size < maxSize)
        {
            size = Math.Min(2 * size, maxSize);
            seconds = BestMatmulSeconds(size, calls: 1);
        }
        // More calls while the total stays near a second.
        int more = Math.Min(repetitions - 1, (int)Math.Ceiling(1.0 / seconds) - 1);
        if (more > 0) seconds = Math.Min(seconds, BestMatmulSeconds(size, more));
        return (2.0 * size * size * size / seconds / 1e9, size, 1 + Math.Max(more, 0));
    }

    // The fastest of `calls` products of two seeded random size × size bf16 matrices, made once.
    private static double BestMatmulSeconds(int size, int calls)
    {
        using var scope = NewDisposeScope();
        var a = randn(size, size, generator: new Generator(1)).to(ScalarType.BFloat16);
        var b = randn(size, size, generator: new Generator(2)).to(ScalarType.BFloat16);
        double best = double.MaxValue;
        for (int i = 0; i < calls; i++)
        {
            var clock = Stopwatch.StartNew();
            a.matmul(b).Dispose();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }
}
