namespace OpenVision.Vision;

/// <summary>Pillow's per-output-pixel filter windows along one axis (libImaging/Resample.c precompute_coeffs).</summary>
internal sealed class ResampleCoefficients
{
    // Resample.c: PRECISION_BITS = 32 - 8 - 2, leaving room for 8-bit values and filter overshoot.
    public const int PrecisionBits = 22;

    private ResampleCoefficients(int kernelSize, int[] bounds, double[] weights)
    {
        KernelSize = kernelSize;
        Bounds = bounds;
        Weights = weights;
        Fixed = new int[weights.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            // normalize_coeffs_8bpc: round half away from zero, then C truncation.
            double w = weights[i];
            Fixed[i] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
        }
    }

    /// <summary>Maximum taps per output pixel; row <c>o</c> of the weight tables starts at <c>o * KernelSize</c>.</summary>
    public int KernelSize { get; }

    /// <summary>Pairs (first source index, tap count) per output pixel.</summary>
    public int[] Bounds { get; }

    /// <summary>Normalised double weights (used as is for 32-bit images).</summary>
    public double[] Weights { get; }

    /// <summary>Weights in 10.22 fixed point (used for 8-bit images).</summary>
    public int[] Fixed { get; }

    /// <summary>The coefficients of outputs [first, first + count) only (a crop of the resized image).</summary>
    public ResampleCoefficients Slice(int first, int count)
    {
        if (first < 0 || count < 1 || first + count > Bounds.Length / 2) throw new ArgumentOutOfRangeException(nameof(count), $"outputs {first}..{first + count} of {Bounds.Length / 2}");
        return new ResampleCoefficients(KernelSize, Bounds[(2 * first)..(2 * (first + count))], Weights[(first * KernelSize)..((first + count) * KernelSize)]);
    }

    public static ResampleCoefficients Compute(int inSize, int outSize, Interpolation filter)
    {
        double support0 = filter switch
        {
            Interpolation.Bilinear => 1.0,
            Interpolation.Bicubic => 2.0,
            _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "not a convolution filter"),
        };
        // The box is always the whole image here: in0 = 0, in1 = inSize (exact in float).
        double scale = (double)inSize / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = support0 * filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var weights = new double[checked(outSize * kernelSize)];
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            int row = xx * kernelSize;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Evaluate(filter, ((double)(x + xmin) - center + 0.5) * ss);
                weights[row + x] = w;
                ww += w;
            }
            if (ww != 0.0)
                for (int x = 0; x < xmax; x++) weights[row + x] /= ww;
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return new ResampleCoefficients(kernelSize, bounds, weights);
    }

    private static double Evaluate(Interpolation filter, double x)
    {
        if (x < 0.0) x = -x;
        if (filter == Interpolation.Bilinear) return x < 1.0 ? 1.0 - x : 0.0;
        const double a = -0.5; // Resample.c bicubic_filter
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }
}
