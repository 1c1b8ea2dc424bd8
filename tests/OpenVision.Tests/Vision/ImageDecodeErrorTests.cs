using System.Buffers.Binary;
using OpenVision.Vision;

namespace OpenVision.Tests.Vision;

/// <summary>Bad inputs give <see cref="ImageDecodeException"/> naming the file: never a crash, never a black image.</summary>
public sealed class ImageDecodeErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ov-img-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ImageDecodeException DecodeFile(string name, byte[] content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, error.Message);
        Assert.Equal(path, error.Name);
        return error;
    }

    [Fact]
    public void EmptyFile() => Assert.Contains("empty", DecodeFile("empty.png", []).Problem);

    [Fact]
    public void RandomNoise() => Assert.Contains("unknown image format", DecodeFile("noise.jpg", RandomBytes(4096, 1)).Problem);

    // A file that stops inside a format's signature is a cut-off file of that format, not an unknown one.
    [Theory]
    [InlineData("soi.jpg", new byte[] { 0xFF, 0xD8 }, "truncated JPEG: the data ends after 2 bytes, inside the JPEG signature")]
    [InlineData("cut.png", new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, "truncated PNG: the data ends after 4 bytes, inside the PNG signature")]
    [InlineData("cut.gif", new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8' }, "truncated GIF: the data ends after 4 bytes, inside the GIF signature")]
    [InlineData("cut.webp", new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 8, 0, 0, 0, (byte)'W', (byte)'E' }, "truncated WebP: the data ends after 10 bytes, inside the WebP signature")]
    [InlineData("one.jpg", new byte[] { 0xFF }, "unknown image format (starts with bytes FF); expected PNG, JPEG, GIF, BMP or WebP")]
    [InlineData("wave.webp", new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 8, 0, 0, 0, (byte)'W', (byte)'A' }, "unknown image format (starts with bytes 5249464608000000); expected PNG, JPEG, GIF, BMP or WebP")]
    public void ASignatureCutShortIsATruncatedFile(string name, byte[] content, string problem) => Assert.Equal(problem, DecodeFile(name, content).Problem);

    [Fact]
    public void MissingFile()
    {
        string path = Path.Combine(_dir, "absent.png");
        Assert.Contains(path, Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path)).Message);
    }

    [Fact]
    public void PngHeaderClaiming100000Squared_IsRefusedBeforeDecoding()
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, 100_000);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 100_000);
        ihdr[8] = 8;
        ihdr[9] = 2;
        TestImages.Chunk(file, "IHDR", ihdr);
        TestImages.Chunk(file, "IDAT", TestImages.Deflate(new byte[1000]));
        var error = DecodeFile("bomb.png", file.ToArray());
        Assert.Contains("decompression bomb", error.Problem);
        Assert.Contains("100000x100000", error.Problem);
    }

    [Fact]
    public void PixelLimitIsConfigurable()
    {
        var png = File.ReadAllBytes(ReferenceData.Path("preprocess", "images", "block.png")); // 10×10
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png, "block.png", new ImageDecoderOptions { MaxPixels = 99 }));
        Assert.Equal(10, ImageDecoder.Decode(png, "block.png", new ImageDecoderOptions { MaxPixels = 100 }).Width);
    }

    [Theory]
    [InlineData("chelsea.png")]
    [InlineData("rocket.jpg")]
    [InlineData("chelsea_cmyk.jpg")]
    [InlineData("chelsea_anim.gif")]
    [InlineData("chelsea.webp")]
    public void TruncatedFiles(string file)
    {
        var data = File.ReadAllBytes(ReferenceData.Path("preprocess", "images", file));
        var error = DecodeFile("cut-" + file, data[..(data.Length / 2)]);
        Assert.Contains("truncated", error.Problem);
    }

    [Fact]
    public void SignatureFollowedByGarbage()
    {
        DecodeFile("garbage.png", [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. RandomBytes(100, 2)]);
        DecodeFile("garbage.jpg", [0xFF, 0xD8, 0xFF, .. RandomBytes(100, 3)]);
        DecodeFile("garbage.gif", [.. "GIF89a"u8, .. RandomBytes(100, 4)]);
        DecodeFile("garbage.bmp", [(byte)'B', (byte)'M', .. RandomBytes(100, 5)]);
        DecodeFile("garbage.webp", [.. "RIFF"u8, 0, 0, 0, 0, .. "WEBP"u8, .. RandomBytes(100, 6)]);
    }

    // Mutated copies of every reference image either decode or raise ImageDecodeException, nothing else.
    [Fact]
    public void MutatedFilesNeverThrowAnythingElse()
    {
        var random = new Random(1234);
        foreach (string path in Directory.GetFiles(ReferenceData.Path("preprocess", "images")))
        {
            var original = File.ReadAllBytes(path);
            for (int trial = 0; trial < 12; trial++)
            {
                var data = (byte[])original.Clone();
                int flips = 1 + random.Next(8);
                for (int i = 0; i < flips; i++) data[random.Next(Math.Min(data.Length, 2048))] = (byte)random.Next(256);
                if (trial % 3 == 2) data = data[..random.Next(1, data.Length)];
                try
                {
                    var image = ImageDecoder.Decode(data, Path.GetFileName(path));
                    Assert.Equal((long)image.Width * image.Height * image.Mode.BytesPerPixel(), image.Pixels.LongLength);
                }
                catch (ImageDecodeException e)
                {
                    Assert.StartsWith(Path.GetFileName(path), e.Message);
                }
            }
        }
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
