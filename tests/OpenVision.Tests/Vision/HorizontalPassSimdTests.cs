using OpenVision.Vision;

namespace OpenVision.Tests.Vision;

/// <summary>The vectorized horizontal passes (four rows at a time with AVX-512, one row at a time) must give Resample.c's
/// loop byte for byte (the loop is the one checked against Pillow by hand and on the reference images), including the
/// image's last pixel, whose 4-byte load would run past the end with three channels, a row's last pixel, whose fourth
/// byte must not land on the next row, overshooting bicubic sums that clip, and windows of rows that are not a
/// multiple of four.</summary>
public class HorizontalPassSimdTests
{
    public static TheoryData<int, Interpolation> Cases() => new()
    {
        { 3, Interpolation.Bilinear }, { 3, Interpolation.Bicubic }, { 4, Interpolation.Bilinear }, { 4, Interpolation.Bicubic },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsTheScalarLoop(int channels, Interpolation filter)
    {
        var random = new Random(channels * 10 + (int)filter);
        int compared = 0;
        foreach (var (width, outWidth) in new[] { (1, 7), (2, 1), (3, 224), (500, 224), (224, 500), (1000, 13), (37, 36), (640, 384) })
        {
            int height = random.Next(1, 14);
            // Extremes make bicubic overshoot below 0 and above 255, exercising the clip.
            var source = new byte[width * height * channels];
            for (int i = 0; i < source.Length; i++) source[i] = random.Next(3) == 0 ? (byte)(random.Next(2) * 255) : (byte)random.Next(256);
            var coefficients = ResampleCoefficients.Compute(width, outWidth, filter);
            int firstRow = random.Next(0, Math.Min(3, height)), rows = height - firstRow;
            var scalar = new byte[outWidth * rows * channels];
            var vector = new byte[scalar.Length];
            var oneRow = new byte[scalar.Length];
            PillowResize.HorizontalPassScalar(source, width, channels, coefficients, firstRow, rows, scalar);
            PillowResize.HorizontalPassSimd(source, width, channels, coefficients, firstRow, rows, vector);
            PillowResize.HorizontalPassOneRow(source, width, channels, coefficients, firstRow, rows, oneRow);
            Assert.True(scalar.AsSpan().SequenceEqual(vector), $"{width}→{outWidth} × rows {firstRow}..{height}, {channels} channels, {filter}");
            Assert.True(scalar.AsSpan().SequenceEqual(oneRow), $"one row at a time: {width}→{outWidth} × rows {firstRow}..{height}, {channels} channels, {filter}");
            compared += scalar.Length;
        }
        Assert.True(compared > 10_000);
    }
}
