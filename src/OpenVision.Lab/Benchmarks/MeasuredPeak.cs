using System.Globalization;

namespace OpenVision.Lab.Benchmarks;

/// <summary>The machine's measured peaks, as cached in <see cref="PeakCache"/>.</summary>
/// <param name="CpuModel">/proc/cpuinfo "model name" at measurement time.</param>
/// <param name="Cores">Threads the FMA loop ran on (one per logical processor).</param>
/// <param name="Float32Gflops">Measured fp32 FMA peak over all cores.</param>
/// <param name="Float32Method">How <paramref name="Float32Gflops"/> was measured.</param>
/// <param name="BFloat16Gflops">Best bf16 rate achieved, or null when not measured.</param>
/// <param name="BFloat16Method">How <paramref name="BFloat16Gflops"/> was obtained (an achieved GEMM rate, not a peak, where the
/// runtime has no bf16 dot-product intrinsics).</param>
/// <param name="MeasuredAtUtc">When it was measured.</param>
public sealed record MeasuredPeak(string CpuModel, int Cores, double Float32Gflops, string Float32Method,
    double? BFloat16Gflops, string? BFloat16Method, DateTime MeasuredAtUtc)
{
    /// <summary>Whether other work kept the cores busy while the loops ran (a load average above half the cores): the
    /// figures are understated. The run that measured them uses them; the next <c>bench</c> measures again rather than
    /// dividing by them (a test suite's load once left 118 of 424 GFLOP/s in the cache).</summary>
    public bool SharedCores { get; init; }

    /// <summary>Fraction of the measured fp32 peak that <paramref name="gflops"/> reaches.</summary>
    public double FractionOfFloat32(double gflops) => gflops / Float32Gflops;

    /// <summary>Whether the bf16 figure came from the dot-product loop (a peak), not from a GEMM (an achieved rate).</summary>
    public bool HasBFloat16LoopPeak => BFloat16Method?.StartsWith(PeakMeter.BFloat16LoopMethod, StringComparison.Ordinal) == true;

    /// <summary>Whether bf16 matrix products ran at under a twentieth of the fp32 peak: libtorch emulating bf16 on a CPU
    /// without bf16 arithmetic (0.7 against 70 GFLOP/s on a 2-core AVX2 EPYC, where ViT-Ti ran 5.7 times slower in bf16
    /// than in fp32 at batch 1 and 8).</summary>
    public bool BFloat16Emulated => !HasBFloat16LoopPeak && BFloat16Gflops is { } bf16 && bf16 < Float32Gflops / 20;

    /// <summary>A rate in GFLOP/s as the bench prints it: whole numbers, two significant digits below 10.</summary>
    public static string FormatGflops(double gflops) => gflops >= 10
        ? gflops.ToString("F0", CultureInfo.InvariantCulture)
        : gflops.ToString("G2", CultureInfo.InvariantCulture);

    /// <summary>What the two measured rates allow bf16 to gain over fp32 on this machine, for the bench header;
    /// null without a bf16 figure. Only a dot-product peak bounds the gain: a GEMM rate is achieved, not a peak.</summary>
    public string? BFloat16Outlook()
    {
        if (BFloat16Gflops is not { } bf16) return null;
        double ratio = bf16 / Float32Gflops;
        if (BFloat16Emulated)
            return string.Create(CultureInfo.InvariantCulture, $"bf16/fp32 rates {ratio:G2}x (bf16 from a GEMM): this CPU has no bf16 arithmetic and libtorch emulates it, so bf16 is slower than fp32 here");
        if (!HasBFloat16LoopPeak)
            return $"bf16/fp32 rates {ratio:F2}x (bf16 from a GEMM, a lower bound)";
        return ratio < 1
            ? $"bf16/fp32 peaks {ratio:F2}x: this CPU's bf16 dot products are slower than its fp32 FMAs, so bf16 cannot beat fp32 here (--precision fast measures and chooses)"
            : $"bf16/fp32 peaks {ratio:F2}x: bf16 can gain up to that over fp32 in the matrix products";
    }
}
