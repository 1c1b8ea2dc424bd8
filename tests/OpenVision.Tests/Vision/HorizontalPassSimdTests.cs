using OpenVision.Vision;

namespace OpenVision.Tests.Vision;

/// <summary>The vectorized horizontal pass must give Resample.c's loop byte for byte (the loop is the one checked
/// against Pillow by hand and on the reference images), including the image's last pixel, whose 4-byte load would
/// run past the end with three channels, overshooting bicubic sums that clip, and a window of rows.</summary>
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
            int height = random.Next(1, 6);
            // Extremes make bicubic overshoot below 0 and above 255, exercising the clip.
            var source = new byte[width * height * channels];
            for (int i = 0; i < source.Length; i++) source[i] = random.Next(3) == 0 ? (byte)(random.Next(2) * 255) : (byte)random.Next(256);
            var coefficients = ResampleCoefficients.Compute(width, outWidth, filter);
            int firstRow = height > 2 ? 1 : 0, rows = height - firstRow;
            var scalar = new byte[outWidth * rows * channels];
            var vector = new byte[scalar.Length];
            PillowResize.HorizontalPassScalar(source, width, channels, coefficients, firstRow, rows, scalar);
            PillowResize.HorizontalPassSimd(source, width, channels, coefficients, firstRow, rows, vector);
            Assert.True(scalar.AsSpan().SequenceEqual(vector), $"{width}→{outWidth} × {height} rows, {channels} channels, {filter}");
            compared += scalar.Length;
        }
        Assert.True(compared > 10_000);
    }
}
