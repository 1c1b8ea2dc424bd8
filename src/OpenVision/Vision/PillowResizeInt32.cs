namespace OpenVision.Vision;

/// <summary>Pillow's resize of 32-bit integer images (mode "I"): double weights, double sums in tap order,
/// ROUND_UP to an integer after each pass (Resample.c ImagingResample*_32bpc).</summary>
internal static class PillowResizeInt32
{
    public static int[] Resize(ReadOnlySpan<int> source, int width, int height, int outWidth, int outHeight, Interpolation interpolation)
    {
        if (width == outWidth && height == outHeight) return source.ToArray();
        var horizontal = ResampleCoefficients.Compute(width, outWidth, interpolation);
        var vertical = ResampleCoefficients.Compute(height, outHeight, interpolation);
        ReadOnlySpan<int> current = source;
        int rowOffset = 0, currentWidth = width;
        int[]? temp = null;
        if (outWidth != width)
        {
            int first = vertical.Bounds[0], last = vertical.Bounds[2 * outHeight - 2] + vertical.Bounds[2 * outHeight - 1];
            temp = new int[outWidth * (last - first)];
            for (int y = 0; y < last - first; y++)
            {
                var inRow = source.Slice((first + y) * width, width);
                for (int xx = 0; xx < outWidth; xx++)
                {
                    int xmin = horizontal.Bounds[2 * xx], taps = horizontal.Bounds[2 * xx + 1];
                    double ss = 0.0;
                    for (int x = 0; x < taps; x++) ss += inRow[x + xmin] * horizontal.Weights[xx * horizontal.KernelSize + x];
                    temp[y * outWidth + xx] = RoundUp(ss);
                }
            }
            if (outHeight == height) return temp;
            current = temp;
            rowOffset = first;
            currentWidth = outWidth;
        }
        var result = new int[outWidth * outHeight];
        for (int yy = 0; yy < outHeight; yy++)
        {
            int ymin = vertical.Bounds[2 * yy] - rowOffset, taps = vertical.Bounds[2 * yy + 1];
            for (int xx = 0; xx < currentWidth; xx++)
            {
                double ss = 0.0;
                for (int y = 0; y < taps; y++) ss += current[(y + ymin) * currentWidth + xx] * vertical.Weights[yy * vertical.KernelSize + y];
                result[yy * outWidth + xx] = RoundUp(ss);
            }
        }
        return result;
    }

    // Resample.c ROUND_UP: half away from zero, then C truncation.
    private static int RoundUp(double f) => (int)(f >= 0.0 ? f + 0.5 : f - 0.5);
}
