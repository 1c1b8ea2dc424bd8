using SkiaSharp;

namespace OpenVision.Vision;

/// <summary>Decodes with SkiaSharp's codecs (libjpeg-turbo, libwebp) without colour management or EXIF rotation.</summary>
internal static class SkiaCodec
{
    /// <summary>Decodes to 8-bit grey (one byte per pixel) or to RGBA unpremultiplied (four bytes per pixel).</summary>
    public static unsafe byte[] Decode(ReadOnlySpan<byte> data, int width, int height, bool grey, DecodeContext context, string format)
    {
        using var skData = SKData.CreateCopy(data);
        using var stream = new SKMemoryStream(skData);
        using var codec = SKCodec.Create(stream, out var result);
        if (codec is null) throw context.Error(Describe(result, format));
        if (codec.Info.Width != width || codec.Info.Height != height)
            throw context.Error($"corrupt {format}: header says {width}x{height}, decoder found {codec.Info.Width}x{codec.Info.Height}");
        // A null colour space means "no conversion": the samples come out as stored, as Pillow gives them.
        var info = new SKImageInfo(width, height, grey ? SKColorType.Gray8 : SKColorType.Rgba8888, grey ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        var pixels = new byte[checked((long)width * height * info.BytesPerPixel)];
        fixed (byte* p = pixels) result = codec.GetPixels(info, (IntPtr)p);
        if (result != SKCodecResult.Success) throw context.Error(Describe(result, format));
        return pixels;
    }

    private static string Describe(SKCodecResult result, string format) => result switch
    {
        SKCodecResult.IncompleteInput => $"truncated {format}: the data ends before the image is complete",
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => $"corrupt {format} data",
        SKCodecResult.Unimplemented => $"unsupported {format} variant",
        _ => $"cannot decode {format} ({result})",
    };

    /// <summary>Packs RGBA to RGB (dropping alpha) in a new array.</summary>
    public static byte[] RgbaToRgb(ReadOnlySpan<byte> rgba)
    {
        int n = rgba.Length / 4;
        var rgb = new byte[n * 3];
        for (int i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3)
        {
            rgb[k] = rgba[j];
            rgb[k + 1] = rgba[j + 1];
            rgb[k + 2] = rgba[j + 2];
        }
        return rgb;
    }
}
