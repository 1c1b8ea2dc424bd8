using System.Buffers;

namespace OpenVision.Vision;

/// <summary>Pillow 9.4's <c>Image.resize</c> for 8-bit interleaved images with any channel count, bit for bit:
/// the two-pass fixed-point convolution of libImaging/Resample.c and the NEAREST path of Geometry.c.</summary>
/// <remarks>Mode handling (premultiplied alpha, NEAREST for "P" and "1", CMYK) is the caller's job; see
/// <see cref="ImageTransform"/>. Same-size requests return a copy, as Pillow does.</remarks>
public static class PillowResize
{
    /// <summary>Resizes to a new array of <paramref name="outWidth"/> × <paramref name="outHeight"/> × <paramref name="channels"/> bytes.</summary>
    public static byte[] Resize(ReadOnlySpan<byte> source, int width, int height, int channels,
                                int outWidth, int outHeight, Interpolation interpolation)
    {
        var result = new byte[checked(outWidth * outHeight * channels)];
        Resize(source, width, height, channels, result, outWidth, outHeight, interpolation);
        return result;
    }

    /// <summary>Resizes into <paramref name="destination"/>, which must hold outWidth × outHeight × channels bytes.</summary>
    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int channels,
                              Span<byte> destination, int outWidth, int outHeight, Interpolation interpolation)
    {
        Validate(source.Length, width, height, channels, destination.Length, outWidth, outHeight);
        if (width == outWidth && height == outHeight)
        {
            source[..(width * height * channels)].CopyTo(destination);
            return;
        }
        if (interpolation == Interpolation.Nearest)
        {
            Nearest(source, width, height, channels, destination, outWidth, outHeight);
            return;
        }

        var horizontal = ResampleCoefficients.Compute(width, outWidth, interpolation);
        var vertical = ResampleCoefficients.Compute(height, outHeight, interpolation);
        bool needHorizontal = outWidth != width, needVertical = outHeight != height;
        if (!needHorizontal)
        {
            VerticalPass(source, width * channels, vertical, 0, destination, outHeight);
            return;
        }
        // As in ImagingResampleInner, the horizontal pass covers only the source rows the vertical pass reads.
        int firstRow = vertical.Bounds[0];
        int lastRow = vertical.Bounds[2 * outHeight - 2] + vertical.Bounds[2 * outHeight - 1];
        int rowLength = outWidth * channels;
        if (!needVertical)
        {
            HorizontalPass(source, width, channels, horizontal, firstRow, lastRow - firstRow, destination);
            return;
        }
        byte[] temp = ArrayPool<byte>.Shared.Rent(rowLength * (lastRow - firstRow));
        try
        {
            HorizontalPass(source, width, channels, horizontal, firstRow, lastRow - firstRow, temp);
            VerticalPass(temp, rowLength, vertical, firstRow, destination, outHeight);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(temp);
        }
    }

    /// <summary>Pillow NEAREST as <c>Image.resize</c> runs it: ImagingScaleAffine with the scale a = in/out,
    /// source coordinate accumulated in double from a/2 and truncated.</summary>
    public static void Nearest(ReadOnlySpan<byte> source, int width, int height, int channels,
                               Span<byte> destination, int outWidth, int outHeight)
    {
        Validate(source.Length, width, height, channels, destination.Length, outWidth, outHeight);
        double a0 = (double)width / outWidth, a4 = (double)height / outHeight;
        Span<int> xTable = outWidth <= 1024 ? stackalloc int[outWidth] : new int[outWidth];
        int xmin = outWidth, xmax = 0;
        double xo = a0 * 0.5;
        for (int x = 0; x < outWidth; x++)
        {
            int xin = xo < 0.0 ? -1 : (int)xo;
            if (xin >= 0 && xin < width)
            {
                xmax = x + 1;
                if (x < xmin) xmin = x;
                xTable[x] = xin;
            }
            xo += a0;
        }
        int rowLength = outWidth * channels;
        destination[..(rowLength * outHeight)].Clear(); // Pillow fills uncovered pixels with 0
        double yo = a4 * 0.5;
        for (int y = 0; y < outHeight; y++, yo += a4)
        {
            int yi = yo < 0.0 ? -1 : (int)yo;
            if (yi < 0 || yi >= height) continue;
            var inRow = source.Slice(yi * width * channels, width * channels);
            var outRow = destination.Slice(y * rowLength, rowLength);
            for (int x = xmin; x < xmax; x++)
                inRow.Slice(xTable[x] * channels, channels).CopyTo(outRow.Slice(x * channels, channels));
        }
    }

    private static void Validate(int sourceLength, int width, int height, int channels, int destinationLength, int outWidth, int outHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 to 4 channels");
        if (sourceLength < (long)width * height * channels) throw new ArgumentException($"source holds {sourceLength} bytes, a {width}x{height}x{channels} image needs {(long)width * height * channels}");
        if (destinationLength < (long)outWidth * outHeight * channels) throw new ArgumentException($"destination holds {destinationLength} bytes, {outWidth}x{outHeight}x{channels} needed");
    }

    // clip8 in Resample.c: the accumulator's integer part, clamped to a byte.
    private static byte Clip8(int sum)
    {
        int v = sum >> ResampleCoefficients.PrecisionBits;
        return v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;
    }

    private const int Half = 1 << (ResampleCoefficients.PrecisionBits - 1);

    private static void HorizontalPass(ReadOnlySpan<byte> source, int width, int channels, ResampleCoefficients coefficients,
                                       int firstRow, int rows, Span<byte> destination)
    {
        int outWidth = coefficients.Bounds.Length / 2, ks = coefficients.KernelSize;
        int[] bounds = coefficients.Bounds, k = coefficients.Fixed;
        int inRowLength = width * channels, outRowLength = outWidth * channels;
        for (int y = 0; y < rows; y++)
        {
            var inRow = source.Slice((firstRow + y) * inRowLength, inRowLength);
            var outRow = destination.Slice(y * outRowLength, outRowLength);
            for (int xx = 0; xx < outWidth; xx++)
            {
                int xmin = bounds[2 * xx], taps = bounds[2 * xx + 1];
                var kernel = k.AsSpan(xx * ks, taps);
                var window = inRow.Slice(xmin * channels, taps * channels);
                switch (channels)
                {
                    case 1:
                    {
                        int s0 = Half;
                        for (int x = 0; x < kernel.Length; x++) s0 += window[x] * kernel[x];
                        outRow[xx] = Clip8(s0);
                        break;
                    }
                    case 3:
                    {
                        int s0 = Half, s1 = Half, s2 = Half;
                        for (int x = 0, p = 0; x < kernel.Length; x++, p += 3)
                        {
                            int w = kernel[x];
                            s0 += window[p] * w;
                            s1 += window[p + 1] * w;
                            s2 += window[p + 2] * w;
                        }
                        outRow[3 * xx] = Clip8(s0);
                        outRow[3 * xx + 1] = Clip8(s1);
                        outRow[3 * xx + 2] = Clip8(s2);
                        break;
                    }
                    default:
                        for (int c = 0; c < channels; c++)
                        {
                            int s = Half;
                            for (int x = 0; x < kernel.Length; x++) s += window[x * channels + c] * kernel[x];
                            outRow[xx * channels + c] = Clip8(s);
                        }
                        break;
                }
            }
        }
    }

    // Integer sums are exact, so accumulating row by row gives Pillow's per-pixel sums in a cache-friendly order.
    private static void VerticalPass(ReadOnlySpan<byte> source, int rowLength, ResampleCoefficients coefficients, int rowOffset,
                                     Span<byte> destination, int outHeight)
    {
        int ks = coefficients.KernelSize;
        int[] bounds = coefficients.Bounds, k = coefficients.Fixed;
        int[] sums = ArrayPool<int>.Shared.Rent(rowLength);
        try
        {
            var acc = sums.AsSpan(0, rowLength);
            for (int yy = 0; yy < outHeight; yy++)
            {
                int ymin = bounds[2 * yy] - rowOffset, taps = bounds[2 * yy + 1];
                acc.Fill(Half);
                for (int y = 0; y < taps; y++)
                {
                    int w = k[yy * ks + y];
                    var row = source.Slice((ymin + y) * rowLength, rowLength);
                    for (int i = 0; i < acc.Length; i++) acc[i] += row[i] * w;
                }
                var outRow = destination.Slice(yy * rowLength, rowLength);
                for (int i = 0; i < acc.Length; i++) outRow[i] = Clip8(acc[i]);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(sums);
        }
    }
}
