using SkiaSharp;

namespace OpenVision.Lab.Benchmarks;

/// <summary>Writes a folder of photo-sized JPEGs (smooth gradients plus noise) for end-to-end benchmarks.</summary>
public static class SyntheticImages
{
    /// <summary>Writes <paramref name="count"/> JPEGs of width × height into <paramref name="folder"/> and returns their paths.</summary>
    public static IReadOnlyList<string> WriteJpegs(string folder, int count, int width = 500, int height = 375, int seed = 0)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var paths = new List<string>(count);
        for (int n = 0; n < count; n++)
        {
            using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
            var pixels = new byte[width * height * 4];
            int phase = random.Next(256);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int i = (y * width + x) * 4;
                    pixels[i] = (byte)((x * 255 / width + phase) & 255);
                    pixels[i + 1] = (byte)(y * 255 / height);
                    pixels[i + 2] = (byte)random.Next(256);
                    pixels[i + 3] = 255;
                }
            System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            string path = Path.Combine(folder, $"synthetic-{n:D4}.jpg");
            File.WriteAllBytes(path, data.ToArray());
            paths.Add(path);
        }
        return paths;
    }
}
