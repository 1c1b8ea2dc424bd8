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
    /// <summary>Fraction of the measured fp32 peak that <paramref name="gflops"/> reaches.</summary>
    public double FractionOfFloat32(double gflops) => gflops / Float32Gflops;
}
