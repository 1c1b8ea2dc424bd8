using System.Buffers.Binary;
using System.Diagnostics;
using OpenVision.Tests.Vision;
using OpenVision.Vision;
using Xunit.Abstractions;

namespace OpenVision.Tests.Fuzz;

/// <summary>Seeded mutations of images in every format the decoder reads (reference files plus generated BMP and GIF):
/// bit flips, truncations, chunk-length edits and huge declared dimensions. Each case must decode or throw
/// <see cref="ImageDecodeException"/> with a one-line message; never another exception, never a hang, and never more
/// managed memory than the declared (capped) pixel count allows.</summary>
public sealed class ImageFuzzTests(ITestOutputHelper output)
{
    // A low pixel cap keeps each case's memory small, so the bound below means something.
    private static readonly ImageDecoderOptions Options = new() { MaxPixels = 4_000_000 };
    private const int CasesPerSeed = 60;

    [Fact]
    public void MutatedImagesDecodeOrFailWithOneLine()
    {
        var tally = new FuzzTally();
        var random = new Random(20_261_202);
        foreach (var (name, seed) in Seeds())
        {
            string category = ImageDecoder.DetectFormat(seed)?.ToString() ?? "unknown";
            Run(tally, category, name + " (as is)", seed);
            for (int i = 0; i < CasesPerSeed; i++)
            {
                var (kind, data) = Mutate(seed, random, ImageDecoder.DetectFormat(seed));
                Run(tally, category, $"{name} {kind} #{i}", data);
            }
        }
        output.WriteLine(tally.Table("decoded OK"));
        Assert.True(tally.Total > 1000, $"only {tally.Total} cases ran");
        Assert.Empty(tally.Others);
    }

    // The harness itself must be able to fail: an exception of another type is counted as "other".
    [Fact]
    public void TheTallyCountsForeignExceptionsAsOther()
    {
        var tally = new FuzzTally();
        Classify(tally, "x", "case", () => throw new IndexOutOfRangeException());
        Assert.Single(tally.Others);
    }

    private static void Run(FuzzTally tally, string category, string name, byte[] data) =>
        Classify(tally, category, name, () => ImageDecoder.Decode(data, name, Options));

    private static void Classify(FuzzTally tally, string category, string name, Func<DecodedImage> decode)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        int outcome;
        string? detail = null;
        try
        {
            var image = decode();
            outcome = 0;
            if ((long)image.Width * image.Height > Options.MaxPixels) (outcome, detail) = (2, $"{name}: decoded {image.Width}x{image.Height} above the cap");
        }
        catch (ImageDecodeException e) when (!e.Message.Contains('\n') && e.Message.StartsWith(name + ": ", StringComparison.Ordinal))
        {
            outcome = 1;
        }
        catch (Exception e)
        {
            (outcome, detail) = (2, $"{name}: {e.GetType().Name}: {e.Message}");
        }
        // Not a speed goal: a case this slow is a hang (a loop that does not advance), whatever the machine.
        if (clock.Elapsed > TimeSpan.FromSeconds(30)) (outcome, detail) = (2, $"{name}: took {clock.Elapsed.TotalSeconds:F0} s");
        // Decoders hold the pixels (at most 4 bytes each, twice with a conversion) plus copies of the input.
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long bound = 3 * 4 * Options.MaxPixels + (64L << 20);
        if (allocated > bound) (outcome, detail) = (2, $"{name}: allocated {allocated:N0} bytes, bound {bound:N0}");
        tally.Add(category, outcome, detail);
    }

    private static IEnumerable<(string Name, byte[] Data)> Seeds()
    {
        foreach (var file in Directory.GetFiles(ReferenceData.Path("preprocess", "images")).Order(StringComparer.Ordinal))
            yield return (Path.GetFileName(file), File.ReadAllBytes(file));
        var rgb = Enumerable.Range(0, 8).Select(y => Enumerable.Range(0, 24).Select(i => (byte)(i * 10 + y)).ToArray()).ToArray();
        yield return ("generated-24bit.bmp", TestImages.Bmp(8, 8, 24, rgb));
        var grey = Enumerable.Range(0, 256).SelectMany(i => new[] { (byte)i, (byte)i, (byte)(255 - i), (byte)0 }).ToArray();
        var indices = Enumerable.Range(0, 8).Select(y => Enumerable.Range(0, 8).Select(x => (byte)(x * 8 + y)).ToArray()).ToArray();
        yield return ("generated-8bit.bmp", TestImages.Bmp(8, 8, 8, indices, grey));
        var palette = Enumerable.Range(0, 768).Select(i => (byte)(i * 7)).ToArray();
        yield return ("generated.gif", TestImages.Gif(12, 10, palette, 1, 1, 10, 8, Enumerable.Range(0, 80).Select(i => (byte)i).ToArray(), transparency: 3));
    }

    private static (string Kind, byte[] Data) Mutate(byte[] seed, Random random, ImageFormat? format)
    {
        var data = (byte[])seed.Clone();
        switch (random.Next(5))
        {
            case 0:
                int flips = 1 + random.Next(8);
                for (int i = 0; i < flips; i++) data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                return ("bit flips", data);
            case 1:
                return ("truncated", data[..random.Next(data.Length)]);
            case 2:
                for (int i = 0; i < 4; i++) data[random.Next(Math.Min(64, data.Length))] = (byte)random.Next(256);   // header bytes
                return ("header bytes", data);
            case 3:
                return ("huge dimensions", HugeDimensions(data, random, format));
            default:
                return ("length fields", EditLengths(data, random, format));
        }
    }

    // Declares a very large or degenerate size where each format keeps it.
    private static byte[] HugeDimensions(byte[] data, Random random, ImageFormat? format)
    {
        uint[] sizes = [0, 1, 65_535, 100_000, 0x7FFF_FFFF, 0xFFFF_FFFF];
        uint w = sizes[random.Next(sizes.Length)], h = sizes[random.Next(sizes.Length)];
        var span = data.AsSpan();
        switch (format)
        {
            case ImageFormat.Png when data.Length >= 24:
                BinaryPrimitives.WriteUInt32BigEndian(span[16..], w);
                BinaryPrimitives.WriteUInt32BigEndian(span[20..], h);
                BinaryPrimitives.WriteUInt32BigEndian(span[29..], TestImages.Crc32(data[12..29]));   // keep IHDR's checksum valid
                break;
            case ImageFormat.Gif when data.Length >= 10:
                BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)w);
                BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)h);
                break;
            case ImageFormat.Bmp when data.Length >= 26:
                BinaryPrimitives.WriteUInt32LittleEndian(span[18..], w);
                BinaryPrimitives.WriteUInt32LittleEndian(span[22..], h);
                break;
            case ImageFormat.WebP when data.Length >= 30:
                span[26] = (byte)w; span[27] = (byte)(w >> 8); span[28] = (byte)h; span[29] = (byte)(h >> 8);
                break;
            case ImageFormat.Jpeg:
                for (int i = 2; i + 9 < data.Length; i++)
                    if (data[i] == 0xFF && data[i + 1] is 0xC0 or 0xC1 or 0xC2)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(span[(i + 5)..], (ushort)h);
                        BinaryPrimitives.WriteUInt16BigEndian(span[(i + 7)..], (ushort)w);
                        break;
                    }
                break;
        }
        return data;
    }

    // Rewrites a length field: a PNG chunk length, a JPEG segment length, a RIFF or BMP size, a GIF sub-block size.
    private static byte[] EditLengths(byte[] data, Random random, ImageFormat? format)
    {
        uint[] values = [0, 1, 2, 13, 0x7FFF_FFFF, 0xFFFF_FFFF, (uint)random.Next()];
        uint value = values[random.Next(values.Length)];
        var span = data.AsSpan();
        switch (format)
        {
            case ImageFormat.Png:
                var starts = new List<int>();
                for (int pos = 8; pos + 8 <= data.Length;)
                {
                    starts.Add(pos);
                    long length = BinaryPrimitives.ReadUInt32BigEndian(span[pos..]);
                    if (pos + 12 + length > data.Length) break;
                    pos += 12 + (int)length;
                }
                if (starts.Count > 0) BinaryPrimitives.WriteUInt32BigEndian(span[starts[random.Next(starts.Count)]..], value);
                break;
            case ImageFormat.Jpeg:
                var markers = Enumerable.Range(2, Math.Max(0, data.Length - 4)).Where(i => data[i] == 0xFF && data[i + 1] is >= 0xC0 and <= 0xFE and not 0xD8 and not 0xD9 and not (>= 0xD0 and <= 0xD7)).ToList();
                if (markers.Count > 0) BinaryPrimitives.WriteUInt16BigEndian(span[(markers[random.Next(markers.Count)] + 2)..], (ushort)value);
                break;
            case ImageFormat.WebP when data.Length >= 20:
                BinaryPrimitives.WriteUInt32LittleEndian(span[(random.Next(2) == 0 ? 4 : 16)..], value);
                break;
            case ImageFormat.Bmp when data.Length >= 18:
                BinaryPrimitives.WriteUInt32LittleEndian(span[(random.Next(2) == 0 ? 10 : 14)..], value);
                break;
            default:
                if (data.Length > 14) data[13 + random.Next(data.Length - 13)] = (byte)value;
                break;
        }
        return data;
    }
}
