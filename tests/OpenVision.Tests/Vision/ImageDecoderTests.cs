using OpenVision.Vision;
using SkiaSharp;

namespace OpenVision.Tests.Vision;

/// <summary>Hand-made files for the formats and modes the reference set does not cover.</summary>
public class ImageDecoderTests
{
    private static DecodedImage Decode(byte[] data) => ImageDecoder.Decode(data, "test-image");

    [Fact]
    public void Png16BitRgb_KeepsHighBytes()
    {
        byte[] row = [0x80, 0xFF, 0x00, 0x01, 0xFF, 0x00]; // one pixel, big-endian samples
        var image = Decode(TestImages.Png(1, 1, 16, 2, [row]));
        Assert.Equal(ImageMode.Rgb, image.Mode);
        Assert.Equal([0x80, 0x00, 0xFF], image.Pixels);
    }

    [Fact]
    public void Png16BitGrey_IsModeI_ClippedByConvert()
    {
        var image = Decode(TestImages.Png(2, 1, 16, 0, [[0x01, 0x00, 0x00, 0x10]])); // 256, 16
        Assert.Equal(ImageMode.I, image.Mode);
        Assert.Equal([255, 255, 255, 16, 16, 16], image.ToRgb());
        // Resized as integers before clipping: 2 → 1 averages 256 and 16 to 136, which convert keeps.
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 1 });
        Assert.Equal([136, 136, 136], transform.ResizeToRgb(image));
    }

    [Fact]
    public void Png16BitGreyAlpha_IsRgba()
    {
        var image = Decode(TestImages.Png(1, 1, 16, 4, [[0x40, 0x99, 0xC0, 0x01]]));
        Assert.Equal(ImageMode.Rgba, image.Mode);
        Assert.Equal([0x40, 0x40, 0x40, 0xC0], image.Pixels);
    }

    [Fact]
    public void Png2BitGrey_ScalesBy0x55()
    {
        var image = Decode(TestImages.Png(4, 1, 2, 0, [[0b00_01_10_11]]));
        Assert.Equal(ImageMode.L, image.Mode);
        Assert.Equal([0, 85, 170, 255], image.Pixels);
    }

    [Fact]
    public void Png1BitGrey_IsBilevel()
    {
        var image = Decode(TestImages.Png(3, 1, 1, 0, [[0b1010_0000]]));
        Assert.Equal(ImageMode.Bilevel, image.Mode);
        Assert.Equal([255, 0, 255], image.Pixels);
    }

    [Fact]
    public void PngPalette_IndexPastPlte_IsGreyRamp()
    {
        var image = Decode(TestImages.Png(2, 1, 8, 3, [[1, 5]], palette: [10, 20, 30, 40, 50, 60]));
        Assert.Equal(ImageMode.P, image.Mode);
        Assert.Equal([40, 50, 60, 5, 5, 5], image.Pixels);
    }

    [Fact]
    public void PngGreyAlpha_IsLA()
    {
        var image = Decode(TestImages.Png(1, 1, 8, 4, [[77, 128]]));
        Assert.Equal(ImageMode.LA, image.Mode);
        Assert.Equal([77, 77, 77], image.ToRgb());
    }

    [Theory]
    [InlineData(8, 2)]
    [InlineData(8, 6)]
    [InlineData(16, 2)]
    [InlineData(8, 0)]
    public void PngRowFilters_AllInvert(int depth, int colorType)
    {
        int bytesPerPixel = depth / 8 * (colorType switch { 0 => 1, 2 => 3, _ => 4 });
        var random = new Random(depth * 10 + colorType);
        var rows = Enumerable.Range(0, 6).Select(_ => { var r = new byte[7 * bytesPerPixel]; random.NextBytes(r); return r; }).ToArray();
        var expected = Decode(TestImages.Png(7, 6, depth, colorType, rows)).Pixels;
        for (int filter = 1; filter <= 4; filter++)
            Assert.Equal(expected, Decode(TestImages.Png(7, 6, depth, colorType, rows, filter: filter)).Pixels);
    }

    [Fact]
    public void PngInterlaced_EqualsPlain()
    {
        const int w = 5, h = 5;
        byte[] Pixel(int x, int y) => [(byte)(x * 40), (byte)(y * 40), (byte)(x + y)];
        var rows = Enumerable.Range(0, h).Select(y => Enumerable.Range(0, w).SelectMany(x => Pixel(x, y)).ToArray()).ToArray();
        int[] x0 = [0, 4, 0, 2, 0, 1, 0], y0 = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
        var passes = Enumerable.Range(0, 7).Select(p =>
            Enumerable.Range(0, h).Where(y => y >= y0[p] && (y - y0[p]) % dy[p] == 0 && x0[p] < w)
                .Select(y => Enumerable.Range(0, w).Where(x => x >= x0[p] && (x - x0[p]) % dx[p] == 0).SelectMany(x => Pixel(x, y)).ToArray())
                .ToArray()).ToArray();
        var plain = Decode(TestImages.Png(w, h, 8, 2, rows));
        var interlaced = Decode(TestImages.Png(w, h, 8, 2, rows, interlaced: true, passes: passes));
        Assert.Equal(plain.Pixels, interlaced.Pixels);
        Assert.Equal(rows.SelectMany(r => r).ToArray(), plain.Pixels);
    }

    [Fact]
    public void Bmp24Bit_BottomUpWithPadding()
    {
        // Stored bottom row first, BGR, rows padded to 4 bytes (6 → 8).
        var data = TestImages.Bmp(2, 2, 24, [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]);
        var image = Decode(data);
        Assert.Equal((ImageFormat.Bmp, ImageMode.Rgb, 2, 2), (image.Format, image.Mode, image.Width, image.Height));
        Assert.Equal([9, 8, 7, 12, 11, 10, 3, 2, 1, 6, 5, 4], image.Pixels);
        var topDown = Decode(TestImages.Bmp(2, 2, 24, [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]], topDown: true));
        Assert.Equal([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10], topDown.Pixels);
    }

    [Fact]
    public void Bmp8BitPalette_ColourIsP_GreyRampIsL()
    {
        byte[] colours = [0, 0, 255, 0, 0, 255, 0, 0]; // BGRX: red, green
        var image = Decode(TestImages.Bmp(2, 1, 8, [[1, 0]], colours));
        Assert.Equal(ImageMode.P, image.Mode);
        Assert.Equal([0, 255, 0, 255, 0, 0], image.Pixels);
        var ramp = Enumerable.Range(0, 256).SelectMany(i => new[] { (byte)i, (byte)i, (byte)i, (byte)0 }).ToArray();
        var grey = Decode(TestImages.Bmp(2, 1, 8, [[7, 200]], ramp));
        Assert.Equal(ImageMode.L, grey.Mode);
        Assert.Equal([7, 200], grey.Pixels);
    }

    [Fact]
    public void Bmp1Bit_BlackWhiteIsBilevel()
    {
        var image = Decode(TestImages.Bmp(3, 1, 1, [[0b0100_0000]], [0, 0, 0, 0, 255, 255, 255, 0]));
        Assert.Equal(ImageMode.Bilevel, image.Mode);
        Assert.Equal([0, 255, 0], image.Pixels);
    }

    [Fact]
    public void Bmp32Bit_RgbIgnoresFourthByte_BitfieldsAlphaIsRgba()
    {
        var plain = Decode(TestImages.Bmp(1, 1, 32, [[1, 2, 3, 4]]));
        Assert.Equal(ImageMode.Rgb, plain.Mode);
        Assert.Equal([3, 2, 1], plain.Pixels);
        var alpha = Decode(TestImages.Bmp(1, 1, 32, [[1, 2, 3, 4]], compression: 3, masks: [0xFF0000, 0xFF00, 0xFF, 0xFF000000]));
        Assert.Equal(ImageMode.Rgba, alpha.Mode);
        Assert.Equal([3, 2, 1, 4], alpha.Pixels);
    }

    [Fact]
    public void Bmp16Bit_Scales5BitChannels()
    {
        // BGR;15: 0x7FFF is white; 0x001F is blue (31·255/31 = 255); 0x0010 gives 16·255/31 = 131.
        var image = Decode(TestImages.Bmp(3, 1, 16, [[0xFF, 0x7F, 0x1F, 0x00, 0x10, 0x00]]));
        Assert.Equal([255, 255, 255, 0, 0, 255, 0, 0, 131], image.Pixels);
    }

    [Fact]
    public void BmpRle8_Decodes()
    {
        // 4×2: bottom row "run of 3 × index 1, then index 0", EOL; top row absolute [1, 0, 0, 1]; end of bitmap.
        byte[] rle = [3, 1, 1, 0, 0, 0, 0, 4, 1, 0, 0, 1, 0, 1];
        var image = Decode(TestImages.Bmp(4, 2, 8, [], [0, 0, 0, 0, 0, 0, 255, 0], compression: 1, rawData: rle));
        Assert.Equal(ImageMode.P, image.Mode);
        var red = new byte[] { 255, 0, 0 };
        var black = new byte[] { 0, 0, 0 };
        Assert.Equal(new[] { red, black, black, red, red, red, red, black }.SelectMany(p => p).ToArray(), image.Pixels);
    }

    [Fact]
    public void Gif_FrameOnLargerScreen_FillsWithTransparencyIndex()
    {
        byte[] palette = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var data = TestImages.Gif(3, 2, palette, 1, 1, 2, 1, [0, 1], transparency: 2);
        var image = Decode(data);
        Assert.Equal((ImageMode.P, 3, 2), (image.Mode, image.Width, image.Height));
        Assert.Equal(new byte[] { 7, 8, 9, 7, 8, 9, 7, 8, 9, 7, 8, 9, 1, 2, 3, 4, 5, 6 }, image.Pixels);
    }

    [Fact]
    public void Gif_IdentityPaletteIsL_AndLongStreamsDecode()
    {
        var ramp = Enumerable.Range(0, 256).SelectMany(i => new[] { (byte)i, (byte)i, (byte)i }).ToArray();
        var indices = Enumerable.Range(0, 30 * 20).Select(i => (byte)(i * 7)).ToArray();
        var image = Decode(TestImages.Gif(30, 20, ramp, 0, 0, 30, 20, indices));
        Assert.Equal(ImageMode.L, image.Mode);
        Assert.Equal(indices, image.Pixels);
    }

    // A one-component JPEG is Pillow mode "L" (decoded as grey, not expanded).
    [Fact]
    public void GreyJpeg_IsL()
    {
        var source = ImageDecoder.Decode(ReferenceData.Path("preprocess", "images", "camera.png"));
        using var bitmap = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(source.Pixels, 0, bitmap.GetPixels(), source.Pixels.Length);
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        var image = Decode(jpeg.ToArray());
        Assert.Equal((ImageFormat.Jpeg, ImageMode.L, 512, 512), (image.Format, image.Mode, image.Width, image.Height));
        double meanError = source.Pixels.Zip(image.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError < 2, $"mean error {meanError}");
    }

    // A WebP with alpha is Pillow mode "RGBA"; lossless keeps every visible pixel.
    [Fact]
    public void LosslessWebPWithAlpha_IsRgba()
    {
        var source = ImageDecoder.Decode(ReferenceData.Path("preprocess", "images", "horse.png"));
        using var bitmap = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(source.Pixels, 0, bitmap.GetPixels(), source.Pixels.Length);
        using var webp = bitmap.Encode(SKEncodedImageFormat.Webp, 100);
        var image = Decode(webp.ToArray());
        Assert.Equal((ImageFormat.WebP, ImageMode.Rgba), (image.Format, image.Mode));
        for (int i = 0; i < source.Pixels.Length; i += 4)
            if (source.Pixels[i + 3] != 0) Assert.Equal(source.Pixels.AsSpan(i, 4), image.Pixels.AsSpan(i, 4));
    }
}
