using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace OpenVision.Lab.Benchmarks;

/// <summary>The fp32 FMA loop behind the measured peak: <see cref="Accumulators"/> independent vector accumulators,
/// each updated by one fused multiply-add per iteration, so that FMA latency (4–5 cycles) is hidden behind the
/// two FMA ports' throughput. Each FMA adds exactly 1 to every lane, so the sum of the lanes afterwards counts the
/// FMAs that really ran (the FLOP count comes from the arithmetic, not from the loop bounds).</summary>
public static class FmaPeakKernel
{
    /// <summary>Independent accumulators: latency × ports (5 × 2) rounded up, within the 16/32 vector registers.</summary>
    public const int Accumulators = 12;

    /// <summary>Largest iteration count per call whose lane sums stay exact in float32 (2^24 per lane).</summary>
    public const long MaxIterationsPerCall = 1 << 22;

    /// <summary>Float32 lanes per vector of the widest accelerated width (16 with AVX-512, 8 with AVX2, else 4).</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256.IsHardwareAccelerated ? Vector256<float>.Count : Vector128<float>.Count;

    /// <summary>Runs <paramref name="iterations"/> iterations (0 to <see cref="MaxIterationsPerCall"/>) on the widest
    /// accelerated vectors and returns the FLOPs done: 2 × the FMAs counted in the lanes.</summary>
    public static long Run(long iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterationsPerCall);
        double fmas = Vector512.IsHardwareAccelerated ? Run512(iterations) : Vector256.IsHardwareAccelerated ? Run256(iterations) : Run128(iterations);
        return 2 * (long)Math.Round(fmas);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double Run512(long n)
    {
        var one = Vector512.Create(1f);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, one, one); a1 = Vector512.FusedMultiplyAdd(a1, one, one);
            a2 = Vector512.FusedMultiplyAdd(a2, one, one); a3 = Vector512.FusedMultiplyAdd(a3, one, one);
            a4 = Vector512.FusedMultiplyAdd(a4, one, one); a5 = Vector512.FusedMultiplyAdd(a5, one, one);
            a6 = Vector512.FusedMultiplyAdd(a6, one, one); a7 = Vector512.FusedMultiplyAdd(a7, one, one);
            a8 = Vector512.FusedMultiplyAdd(a8, one, one); a9 = Vector512.FusedMultiplyAdd(a9, one, one);
            a10 = Vector512.FusedMultiplyAdd(a10, one, one); a11 = Vector512.FusedMultiplyAdd(a11, one, one);
        }
        return Sum(a0) + Sum(a1) + Sum(a2) + Sum(a3) + Sum(a4) + Sum(a5) + Sum(a6) + Sum(a7) + Sum(a8) + Sum(a9) + Sum(a10) + Sum(a11);
        static double Sum(Vector512<float> v) => Vector512.Sum(Vector512.WidenLower(v)) + Vector512.Sum(Vector512.WidenUpper(v));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double Run256(long n)
    {
        var one = Vector256.Create(1f);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, one, one); a1 = Vector256.FusedMultiplyAdd(a1, one, one);
            a2 = Vector256.FusedMultiplyAdd(a2, one, one); a3 = Vector256.FusedMultiplyAdd(a3, one, one);
            a4 = Vector256.FusedMultiplyAdd(a4, one, one); a5 = Vector256.FusedMultiplyAdd(a5, one, one);
            a6 = Vector256.FusedMultiplyAdd(a6, one, one); a7 = Vector256.FusedMultiplyAdd(a7, one, one);
            a8 = Vector256.FusedMultiplyAdd(a8, one, one); a9 = Vector256.FusedMultiplyAdd(a9, one, one);
            a10 = Vector256.FusedMultiplyAdd(a10, one, one); a11 = Vector256.FusedMultiplyAdd(a11, one, one);
        }
        return Sum(a0) + Sum(a1) + Sum(a2) + Sum(a3) + Sum(a4) + Sum(a5) + Sum(a6) + Sum(a7) + Sum(a8) + Sum(a9) + Sum(a10) + Sum(a11);
        static double Sum(Vector256<float> v) => Vector256.Sum(Vector256.WidenLower(v)) + Vector256.Sum(Vector256.WidenUpper(v));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double Run128(long n)
    {
        var one = Vector128.Create(1f);
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector128.FusedMultiplyAdd(a0, one, one); a1 = Vector128.FusedMultiplyAdd(a1, one, one);
            a2 = Vector128.FusedMultiplyAdd(a2, one, one); a3 = Vector128.FusedMultiplyAdd(a3, one, one);
            a4 = Vector128.FusedMultiplyAdd(a4, one, one); a5 = Vector128.FusedMultiplyAdd(a5, one, one);
            a6 = Vector128.FusedMultiplyAdd(a6, one, one); a7 = Vector128.FusedMultiplyAdd(a7, one, one);
            a8 = Vector128.FusedMultiplyAdd(a8, one, one); a9 = Vector128.FusedMultiplyAdd(a9, one, one);
            a10 = Vector128.FusedMultiplyAdd(a10, one, one); a11 = Vector128.FusedMultiplyAdd(a11, one, one);
        }
        return Sum(a0) + Sum(a1) + Sum(a2) + Sum(a3) + Sum(a4) + Sum(a5) + Sum(a6) + Sum(a7) + Sum(a8) + Sum(a9) + Sum(a10) + Sum(a11);
        static double Sum(Vector128<float> v) => Vector128.Sum(Vector128.WidenLower(v)) + Vector128.Sum(Vector128.WidenUpper(v));
    }
}
