using OpenVision.IO;
using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>Encodes rendered bitmaps as PNG and writes them atomically.</summary>
internal static class PngImage
{
    public static byte[] Encode(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the PNG");
        return data.ToArray();
    }

    public static void Save(string path, byte[] png) => AtomicFile.WriteAllBytes(path, png);
}
