using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OpenVision.Vision;

/// <summary>Pillow 9.4's <c>Image.resize</c> for 8-bit interleaved images with any channel count, bit for bit:
/// the two-pass fixed-point convolution of libImaging/Resample.c and the NEAREST path of Geometry.c.</summary>
/// <remarks>Mode handling (premultiplied alpha, NEAREST for "P" and "1", CMYK) is the caller's job; see
/// <see cref="ImageTransform"/>. Same-size requests return a copy, as Pillow does.</remarks>
public static partial class PillowResize
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
        if (!needVertical)
        {
            HorizontalPass(source, width, channels, horizontal, 0, height, destination);
            return;
        }
        Resample(source, width, channels, horizontal, vertical, destination, outWidth, outHeight);
    }

    /// <summary>The <paramref name="cropWidth"/> × <paramref name="cropHeight"/> region at (<paramref name="left"/>,
    /// <paramref name="top"/>) of the <paramref name="outWidth"/> × <paramref name="outHeight"/> resize, computed alone:
    /// each output pixel depends only on its own taps, so it equals the resize followed by the crop byte for byte, without
    /// the work for the pixels the crop drops (a quarter of it for a 4:3 photo cropped square). Both sides must change
    /// size and the filter must be a convolution one (bilinear or bicubic).</summary>
    public static void ResizeCrop(ReadOnlySpan<byte> source, int width, int height, int channels, Span<byte> destination,
                                  int outWidth, int outHeight, Interpolation interpolation, int left, int top, int cropWidth, int cropHeight)
    {
        Validate(source.Length, width, height, channels, destination.Length, cropWidth, cropHeight);
        if (outWidth == width || outHeight == height || interpolation == Interpolation.Nearest)
            throw new ArgumentException("ResizeCrop needs both sides resized with a convolution filter");
        if (left < 0 || top < 0 || left + cropWidth > outWidth || top + cropHeight > outHeight)
            throw new ArgumentOutOfRangeException(nameof(left), $"crop {cropWidth}x{cropHeight} at ({left}, {top}) is outside {outWidth}x{outHeight}");
        var horizontal = ResampleCoefficients.Compute(width, outWidth, interpolation).Slice(left, cropWidth);
        var vertical = ResampleCoefficients.Compute(height, outHeight, interpolation).Slice(top, cropHeight);
        Resample(source, width, channels, horizontal, vertical, destination, cropWidth, cropHeight);
    }

    // Both passes, the horizontal one over only the source rows the vertical one reads (as ImagingResampleInner does).
    private static void Resample(ReadOnlySpan<byte> source, int width, int channels, ResampleCoefficients horizontal, ResampleCoefficients vertical,
                                 Span<byte> destination, int outWidth, int outHeight)
    {
        int firstRow = vertical.Bounds[0];
        int lastRow = vertical.Bounds[2 * outHeight - 2] + vertical.Bounds[2 * outHeight - 1];
        int rowLength = outWidth * channels;
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
                    AccumulateRow(source.Slice((ymin + y) * rowLength, rowLength), w, acc);
                }
                ClipRow(acc, destination.Slice(yy * rowLength, rowLength));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(sums);
        }
    }

    // to[i] = Clip8(sums[i]), a vector of bytes at a time where available (the per-byte loop was a third of the pass).
    private static void ClipRow(ReadOnlySpan<int> sums, Span<byte> to)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int lane = Vector<int>.Count;
            // Clip8 on a vector: the integer part, clamped to 0..255 (so the narrowing below keeps every value).
            static Vector<uint> Clip(ReadOnlySpan<int> sums) => Vector.AsVectorUInt32(Vector.Min(Vector.Max(
                Vector.ShiftRightArithmetic(new Vector<int>(sums), ResampleCoefficients.PrecisionBits), Vector<int>.Zero), new Vector<int>(255)));
            for (; i <= sums.Length - 4 * lane; i += 4 * lane)
            {
                var low = Vector.Narrow(Clip(sums[i..]), Clip(sums[(i + lane)..]));
                var high = Vector.Narrow(Clip(sums[(i + 2 * lane)..]), Clip(sums[(i + 3 * lane)..]));
                Vector.Narrow(low, high).CopyTo(to[i..]);
            }
        }
        for (; i < sums.Length; i++) to[i] = Clip8(sums[i]);
    }

    // acc[i] += row[i] * weight, widening bytes to ints with SIMD where available.
    private static void AccumulateRow(ReadOnlySpan<byte> row, int weight, Span<int> acc)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<byte>.Count, lane = Vector<int>.Count;
            var w = new Vector<int>(weight);
            for (; i <= row.Length - step; i += step)
            {
                Vector.Widen(new Vector<byte>(row[i..]), out var low, out var high);
                Vector.Widen(low, out var q0, out var q1);
                Vector.Widen(high, out var q2, out var q3);
                var a = acc[i..];
                (new Vector<int>(a) + Vector.AsVectorInt32(q0) * w).CopyTo(a);
                (new Vector<int>(a[lane..]) + Vector.AsVectorInt32(q1) * w).CopyTo(a[lane..]);
                (new Vector<int>(a[(2 * lane)..]) + Vector.AsVectorInt32(q2) * w).CopyTo(a[(2 * lane)..]);
                (new Vector<int>(a[(3 * lane)..]) + Vector.AsVectorInt32(q3) * w).CopyTo(a[(3 * lane)..]);
            }
        }
        for (; i < row.Length; i++) acc[i] += row[i] * weight;
    }
}
