using System.Buffers.Binary;

namespace OpenVision.Vision;

/// <summary>Pillow's mode conversions (libImaging/Convert.c, Pillow 9.4), bit for bit.</summary>
internal static class PillowConvert
{
    // ImagingUtils.h: MULDIV255(a, b) = round(a * b / 255) for bytes, computed without a division.
    private static int MulDiv255(int a, int b)
    {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    /// <summary>convert('RGB') of <paramref name="pixelCount"/> pixels stored in <paramref name="mode"/>'s layout.</summary>
    public static void ToRgb(ImageMode mode, ReadOnlySpan<byte> source, Span<byte> rgb, int pixelCount)
    {
        switch (mode)
        {
            case ImageMode.P:
            case ImageMode.Rgb:
                source[..(pixelCount * 3)].CopyTo(rgb);
                break;
            case ImageMode.Bilevel:
            case ImageMode.L:
                for (int i = 0; i < pixelCount; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = source[i];
                break;
            case ImageMode.LA: // la2rgb: the grey value, alpha ignored
                for (int i = 0; i < pixelCount; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = source[2 * i];
                break;
            case ImageMode.Rgba: // rgba2rgb: alpha dropped, no compositing
                for (int i = 0; i < pixelCount; i++)
                {
                    rgb[3 * i] = source[4 * i];
                    rgb[3 * i + 1] = source[4 * i + 1];
                    rgb[3 * i + 2] = source[4 * i + 2];
                }
                break;
            case ImageMode.Cmyk: // cmyk2rgb
                for (int i = 0; i < pixelCount; i++)
                {
                    int nk = 255 - source[4 * i + 3];
                    for (int c = 0; c < 3; c++) rgb[3 * i + c] = Clip8(nk - MulDiv255(source[4 * i + c], nk));
                }
                break;
            case ImageMode.I: // i2rgb: clip the 32-bit value to 0..255
                for (int i = 0; i < pixelCount; i++)
                    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (byte)Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]), (ushort)255);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }
    }

    /// <summary>RGBA→RGBa (rgbA2rgba) or LA→La (lA2la): colour channels times alpha / 255, rounded.</summary>
    public static void Premultiply(Span<byte> pixels, int channels)
    {
        int colour = channels - 1;
        for (int i = 0; i < pixels.Length; i += channels)
        {
            int alpha = pixels[i + colour];
            for (int c = 0; c < colour; c++) pixels[i + c] = (byte)MulDiv255(pixels[i + c], alpha);
        }
    }

    /// <summary>RGBa→RGBA (rgba2rgbA) or La→LA (la2lA): integer division by alpha, untouched at alpha 0 and 255.</summary>
    public static void Unpremultiply(Span<byte> pixels, int channels)
    {
        int colour = channels - 1;
        for (int i = 0; i < pixels.Length; i += channels)
        {
            int alpha = pixels[i + colour];
            if (alpha == 255 || alpha == 0) continue;
            for (int c = 0; c < colour; c++) pixels[i + c] = Clip8(255 * pixels[i + c] / alpha);
        }
    }

    public static byte Clip8(int v) => v <= 0 ? (byte)0 : v < 256 ? (byte)v : (byte)255;
}
