using OpenVision.Vision;
using SkiaSharp;

namespace OpenVision.Tests.Vision;

/// <summary>The libjpeg-turbo shim (SIMD) must give exactly the pixels of SkiaSharp's libjpeg-turbo (no SIMD),
/// which the reference tests check against Pillow: every chroma subsampling, odd sizes (the fancy upsampler's edges),
/// grey, and the same errors for truncated and corrupt files.</summary>
public class TurboJpegTests
{
    // Where libjpeg's headers exist the shim must have been built, and a built shim must load: either failing silently
    // would halve JPEG decoding speed unnoticed (and skip the comparisons below).
    [Fact]
    public void TheShimIsBuiltAndLoads()
    {
        bool built = File.Exists(Path.Combine(AppContext.BaseDirectory, TurboJpeg.ShimFileName));
        if (OperatingSystem.IsLinux() && File.Exists("/usr/include/jpeglib.h")) Assert.True(built, "libjpeg headers exist but the shim was not built");
        Assert.True(built == TurboJpeg.Available, $"shim built: {built}; decoder: {TurboJpeg.Status}");
    }

    // The shim must not depend on the machine's own libjpeg (Ubuntu has libjpeg.so.8, minimal images none): the
    // libjpeg.so.62 it was linked against travels beside it, and the one this process mapped must be that copy.
    [Fact]
    public void TheShimUsesTheLibjpegBesideIt()
    {
        if (!TurboJpeg.Available) return; // SkiaSharp decodes (TheShimIsBuiltAndLoads says why that is allowed)
        string beside = Path.Combine(AppContext.BaseDirectory, "libjpeg.so.62");
        Assert.True(File.Exists(beside), $"{beside} missing next to {TurboJpeg.ShimFileName}");
        var mapped = File.ReadLines("/proc/self/maps").Where(line => line.Contains("libjpeg.so.62"))
            .Select(line => line[line.IndexOf('/')..]).Distinct().ToList();
        Assert.NotEmpty(mapped);
        Assert.All(mapped, path => Assert.Equal(Path.GetFullPath(beside), Path.GetFullPath(path)));
    }

    public static TheoryData<SKJpegEncoderDownsample, int, int> Encodings() => new()
    {
        { SKJpegEncoderDownsample.Downsample420, 500, 375 }, { SKJpegEncoderDownsample.Downsample420, 33, 17 },
        { SKJpegEncoderDownsample.Downsample422, 301, 199 }, { SKJpegEncoderDownsample.Downsample444, 64, 65 },
        { SKJpegEncoderDownsample.Downsample420, 1, 1 }, { SKJpegEncoderDownsample.Downsample422, 2, 999 },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void ColourEqualsSkia(SKJpegEncoderDownsample downsample, int width, int height)
    {
        if (!TurboJpeg.Available) return; // nothing to compare: JPEGs go through SkiaSharp alone (TheShimIsBuiltAndLoads)
        var jpeg = Encode(width, height, downsample, grey: false, seed: width * 7 + height);
        var context = new DecodeContext("test.jpg", ImageDecoderOptions.Default);
        var expected = JpegDecoder.DecodeWithSkia(jpeg, width, height, 3, context);
        Assert.Equal(expected, TurboJpeg.Decode(jpeg, width, height, 3, context));
        var leased = TurboJpeg.DecodeLeased(jpeg, width, height, 3, context);
        Assert.True(expected.AsSpan().SequenceEqual(leased.AsSpan(0, expected.Length)));
        System.Buffers.ArrayPool<byte>.Shared.Return(leased);
    }

    [Fact]
    public void GreyEqualsSkia()
    {
        if (!TurboJpeg.Available) return;
        var jpeg = Encode(123, 77, SKJpegEncoderDownsample.Downsample444, grey: true, seed: 3);
        var context = new DecodeContext("grey.jpg", ImageDecoderOptions.Default);
        Assert.Equal(JpegDecoder.DecodeWithSkia(jpeg, 123, 77, 1, context), TurboJpeg.Decode(jpeg, 123, 77, 1, context));
        Assert.Equal(ImageMode.L, ImageDecoder.Decode(jpeg, "grey.jpg").Mode);
    }

    [Fact]
    public void TruncatedAndCorruptFilesAreOneLineErrors()
    {
        var jpeg = Encode(200, 150, SKJpegEncoderDownsample.Downsample420, grey: false, seed: 9);
        var truncated = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(jpeg.AsSpan(0, jpeg.Length / 2), "cut.jpg"));
        Assert.Contains("cut.jpg", truncated.Message);
        Assert.Contains("truncated", truncated.Message);
        // Garbage after the headers: an error (or pixels), never a crash, and the message names the file.
        var corrupt = (byte[])jpeg.Clone();
        int scan = FindStartOfScan(corrupt);
        for (int i = scan + 20; i < corrupt.Length - 2; i += 3) corrupt[i] = 0xFF;
        try { ImageDecoder.Decode(corrupt, "bad.jpg"); }
        catch (ImageDecodeException e)
        {
            Assert.Contains("bad.jpg", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    private static int FindStartOfScan(byte[] jpeg)
    {
        for (int i = 0; i < jpeg.Length - 1; i++) if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) return i;
        throw new InvalidDataException("no SOS marker");
    }

    private static byte[] Encode(int width, int height, SKJpegEncoderDownsample downsample, bool grey, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(width, height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pixels = new byte[width * height * bitmap.BytesPerPixel];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(grey || i % 4 != 3 ? (i / 7 % 200) + random.Next(56) : 255);
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKJpegEncoderOptions(90, downsample, SKJpegEncoderAlphaOption.Ignore))
            ?? throw new InvalidOperationException("SkiaSharp could not encode the test JPEG");
        return data.ToArray();
    }
}
