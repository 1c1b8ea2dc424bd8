using OpenVision.Vision;

namespace OpenVision.Tests.Vision;

/// <summary>Small resizes worked out by hand from Resample.c's formulas (weights, 22-bit fixed point, rounding).</summary>
public class PillowResizeTests
{
    // 4 → 2, scale 2, support 2. Output 0: centre 1.0, taps x = 0..2 with tri((x − 1 + 0.5) / 2) = 0.75, 0.75, 0.25
    // → 3/7, 3/7, 1/7 → fixed 1797560, 1797560, 599186; (100·1797560 + 200·599186 + 2^21) >> 22 = 71.
    // Output 1: centre 3.0, taps x = 1..3 → 1/7, 3/7, 3/7; (100·599186 + 200·1797560 + 255·1797560 + 2^21) >> 22 = 209.
    [Fact]
    public void Bilinear_Downscale4To2_ByHand()
    {
        byte[] row = [0, 100, 200, 255];
        Assert.Equal([71, 209], PillowResize.Resize(row, 4, 1, 1, 2, 1, Interpolation.Bilinear));
        // The same column, resized vertically only.
        Assert.Equal([71, 209], PillowResize.Resize(row, 1, 4, 1, 1, 2, Interpolation.Bilinear));
    }

    // 2 → 4, scale 0.5, support 1: outputs 0 and 3 copy an end pixel (one tap); output 1 is 0.75·a + 0.25·b,
    // output 2 is 0.25·a + 0.75·b. With a = 0, b = 100: (25.5 → 25), (75.5 → 75): the fixed point floors.
    [Fact]
    public void Bilinear_Upscale2To4_ByHand()
    {
        Assert.Equal([0, 25, 75, 100], PillowResize.Resize([0, 100], 2, 1, 1, 4, 1, Interpolation.Bilinear));
    }

    // Non-square, three channels: 4×2 → 2×1. Horizontal pass: row 0 → 71, 209; row 1 (reversed) → 209, 71 (uint8).
    // Vertical 2 → 1: weights 0.5, 0.5 → (71 + 209) / 2 = 140 exactly (+ 0.5 rounding term floors to 140).
    [Fact]
    public void Bilinear_NonSquare_ThreeChannels_ByHand()
    {
        byte[] grey = [0, 100, 200, 255, 255, 200, 100, 0];
        var rgb = grey.SelectMany(v => new[] { v, (byte)(255 - v), v }).ToArray();
        var result = PillowResize.Resize(rgb, 4, 2, 3, 2, 1, Interpolation.Bilinear);
        Assert.Equal([140, 115, 140, 140, 115, 140], result);
    }

    // Same size is a copy, whatever the filter (Pillow returns self.copy()).
    [Fact]
    public void SameSize_IsCopy()
    {
        byte[] image = [1, 2, 3, 4, 5, 6];
        Assert.Equal(image, PillowResize.Resize(image, 3, 2, 1, 3, 2, Interpolation.Bicubic));
    }

    // NEAREST (ImagingScaleAffine): x_in = (int)(a/2 + k·a). 5 → 2: a = 2.5 → 1.25, 3.75 → pixels 1, 3.
    // 2 → 5: a = 0.4 → 0.2, 0.6, 1.0, 1.4, 1.8 → pixels 0, 0, 1, 1, 1.
    [Fact]
    public void Nearest_ByHand()
    {
        Assert.Equal([11, 33], PillowResize.Resize([0, 11, 22, 33, 44], 5, 1, 1, 2, 1, Interpolation.Nearest));
        Assert.Equal([7, 7, 9, 9, 9], PillowResize.Resize([7, 9], 2, 1, 1, 5, 1, Interpolation.Nearest));
        // Two channels, 3 → 2 rows: a = 1.5 → 0.75, 2.25 → rows 0, 2.
        Assert.Equal([1, 2, 5, 6], PillowResize.Resize([1, 2, 3, 4, 5, 6], 1, 3, 2, 1, 2, Interpolation.Nearest));
    }

    // Bicubic 2 → 1 (scale 2, support 4): centre 1.0, taps 0, 1 at distance 0.25 → equal weights → mean.
    [Fact]
    public void Bicubic_Symmetric_ByHand()
    {
        Assert.Equal([50], PillowResize.Resize([0, 100], 2, 1, 1, 1, 1, Interpolation.Bicubic));
    }

    // RGBA goes through RGBa: (255,0,0,255) and (0,0,255,0) premultiply to (255,0,0,255), (0,0,0,0); the 2 → 1 mean
    // is (128, 0, 0, 128); unpremultiplied 255·128/128 = 255. Compositing or plain averaging would give blue.
    [Fact]
    public void Rgba_IsResizedPremultiplied()
    {
        var image = new DecodedImage(2, 1, ImageMode.Rgba, [255, 0, 0, 255, 0, 0, 255, 0], ImageFormat.Png);
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 1 });
        // 2×1 → 1×1: horizontal only; the same weights as the vertical case above.
        Assert.Equal([255, 0, 0], transform.ResizeToRgb(image));
    }

    // "P" and "1" ignore the requested filter: NEAREST.
    [Fact]
    public void Palette_UsesNearest()
    {
        var image = new DecodedImage(2, 1, ImageMode.P, [10, 20, 30, 200, 210, 220], ImageFormat.Gif);
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 1 });
        Assert.Equal([200, 210, 220], transform.ResizeToRgb(image)); // x_in = (int)(2 · 0.5) = 1
    }

    // Normalization is torchvision's float32 arithmetic: (v / 255f − mean) / std.
    [Fact]
    public void Normalization_IsTorchvisionFloat32()
    {
        var image = new DecodedImage(1, 1, ImageMode.Rgb, [0, 128, 255], ImageFormat.Png);
        var chw = new ImageTransform(new ImageTransformOptions { ImageSize = 1 }).ToChw(image);
        Assert.Equal((0 / 255f - 0.485f) / 0.229f, chw[0]);
        Assert.Equal((128 / 255f - 0.456f) / 0.224f, chw[1]);
        Assert.Equal((255 / 255f - 0.406f) / 0.225f, chw[2]);
    }

    // open_clip "shortest": 4×2 → Resize(2) gives 4·2/2 = 4 → 4×2 (no resize), CenterCrop(2): left = round(1.0) = 1.
    [Fact]
    public void Shortest_CropsTheCentre()
    {
        var image = new DecodedImage(4, 2, ImageMode.L, [0, 1, 2, 3, 4, 5, 6, 7], ImageFormat.Png);
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 2, Mode = ResizeMode.Shortest });
        Assert.Equal([1, 1, 1, 2, 2, 2, 5, 5, 5, 6, 6, 6], transform.ResizeToRgb(image));
    }

    [Fact]
    public void ToTensor_StacksImages()
    {
        var a = new DecodedImage(1, 1, ImageMode.Rgb, [255, 0, 0], ImageFormat.Png);
        var b = new DecodedImage(3, 2, ImageMode.L, [9, 9, 9, 9, 9, 9], ImageFormat.Png);
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 4 });
        using var tensor = transform.ToTensor([a, b]);
        Assert.Equal(new long[] { 2, 3, 4, 4 }, tensor.shape);
        Assert.Equal(transform.ToChw(b), tensor[1].data<float>().ToArray());
    }

    [Fact]
    public void OptionsFromOpenClipConfig()
    {
        var options = ImageTransformOptions.FromOpenClip(160, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], "bicubic", "shortest");
        Assert.Equal(160, options.ImageSize);
        Assert.Equal(Interpolation.Bicubic, options.Interpolation);
        Assert.Equal(ResizeMode.Shortest, options.Mode);
        Assert.Throws<ArgumentException>(() => ImageTransformOptions.FromOpenClip(224, resizeMode: "longest"));
    }

    // JAX eval: 4×2 to S = 2 keeps the size (ratio 1: each output takes its own pixel with weight 1), crops at
    // (4 − 2) / 2 = 1, and normalizes in the 0..255 range: (v − mean·255) / (std·255).
    [Fact]
    public void JaxCenterCrop_ByHand()
    {
        var image = new DecodedImage(4, 2, ImageMode.L, [0, 10, 20, 30, 40, 50, 60, 70], ImageFormat.Png);
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 2, Mode = ResizeMode.JaxCenterCrop });
        Assert.Equal([10, 10, 10, 20, 20, 20, 50, 50, 50, 60, 60, 60], transform.ResizeToRgb(image));
        Assert.Equal((10 - 0.485f * 255f) / (0.229f * 255f), transform.ToChw(image)[0]);
    }

    // The crop computed alone is the resize followed by the crop, byte for byte: down- and upscales, 1–4 channels, both
    // filters, crops at the edges and in the middle, down to one pixel.
    [Theory]
    [InlineData(500, 375, 3, 299, 224, 37, 0, 224, 224, Interpolation.Bicubic)]
    [InlineData(375, 500, 3, 224, 298, 0, 37, 224, 224, Interpolation.Bicubic)]
    [InlineData(61, 47, 4, 33, 29, 32, 28, 1, 1, Interpolation.Bilinear)]
    [InlineData(17, 23, 1, 40, 51, 5, 7, 30, 40, Interpolation.Bicubic)]
    [InlineData(90, 64, 2, 45, 32, 0, 0, 45, 32, Interpolation.Bicubic)]
    public void ResizeCropEqualsResizeThenCrop(int width, int height, int channels, int outWidth, int outHeight, int left, int top,
                                               int cropWidth, int cropHeight, Interpolation filter)
    {
        var source = new byte[width * height * channels];
        new Random(width * 31 + channels).NextBytes(source);
        var full = PillowResize.Resize(source, width, height, channels, outWidth, outHeight, filter);
        var expected = new byte[cropWidth * cropHeight * channels];
        for (int y = 0; y < cropHeight; y++)
            full.AsSpan(((top + y) * outWidth + left) * channels, cropWidth * channels).CopyTo(expected.AsSpan(y * cropWidth * channels));
        var actual = new byte[cropWidth * cropHeight * channels];
        PillowResize.ResizeCrop(source, width, height, channels, actual, outWidth, outHeight, filter, left, top, cropWidth, cropHeight);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ResizeCropRefusesACropOutsideTheImage() =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            PillowResize.ResizeCrop(new byte[100 * 3], 10, 10, 3, new byte[8 * 8 * 3], 5, 5, Interpolation.Bilinear, 0, 0, 8, 8));
}
