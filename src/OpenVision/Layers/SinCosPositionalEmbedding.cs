using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>The fixed 2-D sin-cos table of OpenVision's ViT (big_vision <c>posemb_sincos_2d</c>), with a zero class-token row.</summary>
public static class SinCosPositionalEmbedding
{
    /// <summary>Returns [grid² + 1, width] in float32: row 0 zeros, then per patch (row-major)
    /// <c>[sin(x·ω), cos(x·ω), sin(y·ω), cos(y·ω)]</c>, x = column, ω_k = 1 / 10000^(k / (width/4 - 1)).</summary>
    /// <remarks>Computed in float32 like the JAX original, so it matches released tables to float32 round-off.</remarks>
    public static Tensor Create(int grid, int width)
    {
        if (width % 4 != 0) throw new ArgumentException($"width {width} must be divisible by 4 for a 2-D sin-cos embedding", nameof(width));
        if (grid < 1) throw new ArgumentOutOfRangeException(nameof(grid));
        using var scope = NewDisposeScope();
        int quarter = width / 4;
        // Every number goes to TorchSharp as a Scalar that lives until the operator returns (see Native.KeptScalars);
        // `1 / t` would be t.reciprocal() times a temporary Scalar 1, so reciprocal() alone gives the same bits.
        using var quarterCount = quarter.ToScalar();
        using var gridCount = grid.ToScalar();
        using var divisor = ((float)Math.Max(quarter - 1, 1)).ToScalar();
        var omega = arange(KeptScalars.Zero, quarterCount, KeptScalars.One, dtype: ScalarType.Float32).div(divisor);
        omega = pow(tensor(10000.0f), omega).reciprocal();                     // [w/4]
        var coordinates = arange(KeptScalars.Zero, gridCount, KeptScalars.One, dtype: ScalarType.Float32);
        var y = coordinates.repeat_interleave(grid);                            // row index per patch
        var x = coordinates.repeat(grid);                                       // column index per patch
        var xo = outer(x, omega);                                               // [g², w/4]
        var yo = outer(y, omega);
        var table = cat([xo.sin(), xo.cos(), yo.sin(), yo.cos()], 1);           // [g², w]
        return cat([zeros(1, width), table], 0).MoveToOuterDisposeScope();      // class-token row first
    }

    /// <summary>Whether a stored positional table [grid² + 1, width] is this 2-D sin-cos table (then it can be
    /// recomputed for another grid instead of resampled), within the rounding of the table's own type.</summary>
    public static bool Matches(Tensor table, int grid, int width)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (width % 4 != 0 || grid < 1) return false;
        if (table.ndim != 2 || table.shape[0] != (long)grid * grid + 1 || table.shape[1] != width) return false;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var expected = Create(grid, width);
        var stored = table.detach().to(ScalarType.Float32, CPU);
        // A bfloat16 or float16 table was rounded to 8 or 11 significant bits: |error| ≤ 2⁻⁹ for entries in [−1, 1].
        double atol = table.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? 4e-3 : 1e-4;
        return stored.allclose(expected, rtol: 0, atol: atol);
    }
}
