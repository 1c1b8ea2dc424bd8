using System.Text.Json;
using OpenVision.Checkpoints;
using OpenVision.Vision;
using Xunit.Abstractions;

namespace OpenVision.Tests.Vision;

/// <summary>Decoding and the full eval transform against Pillow 9.4 + torchvision 0.14 outputs in shared/reference/preprocess.</summary>
public class ReferencePreprocessTests(ITestOutputHelper output)
{
    private static readonly int[] Sizes = [84, 160, 224, 384];

    public static IEnumerable<object[]> Images()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(ReferenceData.Path("preprocess", "expected", "manifest.json")));
        foreach (var image in manifest.RootElement.GetProperty("images").EnumerateArray())
            if (!image.TryGetProperty("error", out _)) yield return [image.GetProperty("file").GetString()!];
    }

    private static JsonElement Entry(string file)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(ReferenceData.Path("preprocess", "expected", "manifest.json")));
        return manifest.RootElement.GetProperty("images").EnumerateArray().First(e => e.GetProperty("file").GetString() == file).Clone();
    }

    // Lossy formats may decode one level apart with another libjpeg build; everything else must be exact.
    private static bool IsJpeg(string file) => file.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase);

    [Theory]
    [MemberData(nameof(Images))]
    public void DecodeMatchesPillow(string file)
    {
        var entry = Entry(file);
        var image = ImageDecoder.Decode(ReferenceData.Path("preprocess", "images", file));
        Assert.Equal(entry.GetProperty("mode").GetString(), image.Mode.PillowName());
        Assert.Equal(entry.GetProperty("size")[0].GetInt32(), image.Width);
        Assert.Equal(entry.GetProperty("size")[1].GetInt32(), image.Height);
        Assert.Equal(entry.GetProperty("format").GetString(), image.Format.ToString().ToUpperInvariant());

        var expected = SafetensorsFile.Read(ReferenceData.Path("preprocess", "expected", file + ".safetensors"))["rgb"];
        Assert.Equal(new long[] { image.Height, image.Width, 3 }, expected.Shape);
        var rgb = image.ToRgb();
        int maxDiff = 0, pixelsDiffering = 0;
        for (int p = 0; p < rgb.Length / 3; p++)
        {
            int d = 0;
            for (int c = 0; c < 3; c++) d = Math.Max(d, Math.Abs(rgb[3 * p + c] - expected.Bytes[3 * p + c]));
            maxDiff = Math.Max(maxDiff, d);
            if (d > 0) pixelsDiffering++;
        }
        output.WriteLine($"{file}: decode max |diff| = {maxDiff}, {pixelsDiffering} of {rgb.Length / 3} pixels differ");
        Assert.True(maxDiff <= (IsJpeg(file) ? 1 : 0), $"{file}: max difference {maxDiff} in {pixelsDiffering} pixels");
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void TransformMatchesOpenClip(string file)
    {
        var image = ImageDecoder.Decode(ReferenceData.Path("preprocess", "images", file));
        var expected = SafetensorsFile.Read(ReferenceData.Path("preprocess", "expected", file + ".safetensors"));
        foreach (int size in Sizes)
        {
            var transform = new ImageTransform(new ImageTransformOptions { ImageSize = size });
            var actual = transform.ToChw(image);
            var reference = expected[$"pixels_{size}"];
            Assert.Equal(new long[] { 3, size, size }, reference.Shape);
            var want = new float[reference.ElementCount];
            Buffer.BlockCopy(reference.Bytes, 0, want, 0, reference.Bytes.Length);
            float maxDiff = 0;
            int differing = 0;
            for (int i = 0; i < want.Length; i++)
            {
                float d = Math.Abs(actual[i] - want[i]);
                if (d > 0) differing++;
                maxDiff = Math.Max(maxDiff, d);
            }
            // One uint8 level after normalization is 1/255/std, at most 1/(255·0.224) ≈ 0.0175.
            float tolerance = IsJpeg(file) ? 1f / 255f / 0.224f + 1e-6f : 0f;
            output.WriteLine($"{file} @ {size}: max |diff| = {maxDiff:G3} ({differing} of {want.Length} values differ)");
            Assert.True(maxDiff <= tolerance, $"{file} @ {size}: max difference {maxDiff} ({differing} values), tolerance {tolerance}");
        }
    }

    [Fact]
    public void TruncatedJpegIsAnError()
    {
        string path = ReferenceData.Path("preprocess", "images", "truncated.jpg");
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Contains("truncated.jpg", error.Message);
        Assert.Contains("truncated", error.Problem);
    }
}
