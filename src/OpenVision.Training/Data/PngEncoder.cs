using System.Buffers.Binary;
using System.IO.Compression;
using OpenVision.Checkpoints.Zip;

namespace OpenVision.Training.Data;

/// <summary>A minimal PNG encoder for 8-bit grey ("L") and RGB images: one IDAT chunk, zlib-compressed rows with the
/// Up filter on every row but the first (None), which compresses small, smooth images well.</summary>
public static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="pixels"/> (rows top to bottom, <paramref name="channels"/> = 1 grey or 3 RGB).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 (grey) or 3 (RGB)");
        int stride = width * channels;
        if (pixels.Length != (long)stride * height) throw new ArgumentException($"{pixels.Length} bytes do not hold a {width}x{height}x{channels} image", nameof(pixels));

        // Filtered scanlines: a filter-type byte, then the row (None) or its difference from the row above (Up).
        var raw = new byte[(stride + 1) * height];
        for (int y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * stride, stride);
            var target = raw.AsSpan(y * (stride + 1), stride + 1);
            if (y == 0) row.CopyTo(target[1..]);
            else
            {
                target[0] = 2;
                var above = pixels.Slice((y - 1) * stride, stride);
                for (int x = 0; x < stride; x++) target[x + 1] = (byte)(row[x] - above[x]);
            }
        }
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(raw);

        using var png = new MemoryStream();
        png.Write(Signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;                              // bit depth
        header[9] = (byte)(channels == 1 ? 0 : 2);  // colour type: grey or truecolour
        // header[10..13]: deflate, adaptive filtering, no interlace (all zero)
        WriteChunk(png, "IHDR"u8, header);
        WriteChunk(png, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        // The CRC covers the chunk type and the data.
        var typed = new byte[4 + data.Length];
        type.CopyTo(typed);
        data.CopyTo(typed.AsSpan(4));
        output.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typed));
        output.Write(word);
    }
}
