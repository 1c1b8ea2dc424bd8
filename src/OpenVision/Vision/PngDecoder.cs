using System.Buffers.Binary;
using System.IO.Compression;

namespace OpenVision.Vision;

/// <summary>PNG decoding with Pillow 9.4's mode table and unpackers (PngImagePlugin._MODES, Unpack.c).</summary>
/// <remarks>Our own code rather than SkiaSharp's so that modes and 16-bit handling are exactly Pillow's:
/// 16-bit samples keep their high byte, 16-bit grey becomes mode "I", 16-bit grey+alpha becomes "RGBA".
/// Colour profiles and gamma are ignored, as Pillow ignores them.</remarks>
internal static class PngDecoder
{
    private static readonly int[] Adam7X0 = [0, 4, 0, 2, 0, 1, 0], Adam7Y0 = [0, 0, 4, 0, 2, 0, 1];
    private static readonly int[] Adam7Dx = [8, 8, 4, 4, 2, 2, 1], Adam7Dy = [8, 8, 8, 4, 4, 2, 2];

    public static DecodedImage Decode(ReadOnlySpan<byte> data, DecodeContext context)
    {
        int pos = 8;
        int width = 0, height = 0, depth = 0, colorType = 0;
        bool interlaced = false, sawHeader = false;
        byte[]? palette = null;
        using var compressed = new MemoryStream();
        while (true)
        {
            if (pos + 8 > data.Length)
            {
                if (compressed.Length > 0) break; // no IEND: Pillow stops once the pixel data is complete
                throw context.Error("truncated PNG: the file ends before the image data");
            }
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
            var type = data.Slice(pos + 4, 4);
            if (length > int.MaxValue || pos + 12L + length > data.Length)
            {
                if (compressed.Length > 0 && type.SequenceEqual("IDAT"u8))
                {
                    compressed.Write(data[(pos + 8)..]); // a truncated last IDAT; the row count check decides
                    break;
                }
                if (compressed.Length > 0) break;
                throw context.Error($"truncated PNG: chunk {ChunkName(type)} claims {length} bytes past the end of the file");
            }
            var body = data.Slice(pos + 8, (int)length);
            if (!sawHeader && !type.SequenceEqual("IHDR"u8)) throw context.Error("corrupt PNG: the first chunk is not IHDR");
            if (type.SequenceEqual("IHDR"u8) || type.SequenceEqual("PLTE"u8))
            {
                uint crc = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
                if (Crc32(data.Slice(pos + 4, 4 + (int)length)) != crc)
                    throw context.Error($"corrupt PNG: bad checksum in the {ChunkName(type)} chunk");
            }
            if (type.SequenceEqual("IHDR"u8))
            {
                if (length < 13) throw context.Error("corrupt PNG: IHDR shorter than 13 bytes");
                uint w = BinaryPrimitives.ReadUInt32BigEndian(body), h = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                depth = body[8];
                colorType = body[9];
                if (body[10] != 0 || body[11] != 0) throw context.Error("unsupported PNG compression or filter method");
                interlaced = body[12] != 0;
                context.CheckSize(w, h);
                width = (int)w;
                height = (int)h;
                _ = ModeOf(depth, colorType, context);
                sawHeader = true;
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                if (length % 3 != 0 || length > 768) throw context.Error($"corrupt PNG: palette of {length} bytes");
                palette = body.ToArray();
            }
            else if (type.SequenceEqual("IDAT"u8)) compressed.Write(body);
            else if (type.SequenceEqual("IEND"u8)) break;
            pos += 12 + (int)length;
        }
        if (compressed.Length == 0) throw context.Error("corrupt PNG: no image data (IDAT)");

        var mode = ModeOf(depth, colorType, context);
        int samples = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = samples * depth;
        var pixels = new byte[(long)width * height * mode.BytesPerPixel()];
        var paletteTable = colorType == 3 ? PaletteTable(palette) : null;

        compressed.Position = 0;
        using var inflater = new ZLibStream(compressed, CompressionMode.Decompress);
        if (!interlaced)
        {
            ReadImage(inflater, width, height, bitsPerPixel, (y, row) => Unpack(row, width, depth, colorType, paletteTable,
                pixels.AsSpan(y * width * mode.BytesPerPixel(), width * mode.BytesPerPixel())), context);
        }
        else
        {
            int bpp = mode.BytesPerPixel();
            var unpacked = new byte[(width + 7) / 8 * 8 * bpp];
            for (int pass = 0; pass < 7; pass++)
            {
                int pw = (width - Adam7X0[pass] + Adam7Dx[pass] - 1) / Adam7Dx[pass];
                int ph = (height - Adam7Y0[pass] + Adam7Dy[pass] - 1) / Adam7Dy[pass];
                if (pw <= 0 || ph <= 0) continue;
                int p = pass;
                ReadImage(inflater, pw, ph, bitsPerPixel, (y, row) =>
                {
                    Unpack(row, pw, depth, colorType, paletteTable, unpacked.AsSpan(0, pw * bpp));
                    int yy = Adam7Y0[p] + y * Adam7Dy[p];
                    for (int x = 0; x < pw; x++)
                        unpacked.AsSpan(x * bpp, bpp).CopyTo(pixels.AsSpan((int)(((long)yy * width + Adam7X0[p] + x * Adam7Dx[p]) * bpp)));
                }, context);
            }
        }
        return new DecodedImage(width, height, mode, pixels, ImageFormat.Png);
    }

    private static ImageMode ModeOf(int depth, int colorType, DecodeContext context) => (depth, colorType) switch
    {
        (1, 0) => ImageMode.Bilevel,
        (2 or 4 or 8, 0) => ImageMode.L,
        (16, 0) => ImageMode.I,
        (8 or 16, 2) => ImageMode.Rgb,
        (1 or 2 or 4 or 8, 3) => ImageMode.P,
        (8, 4) => ImageMode.LA,
        (16, 4) => ImageMode.Rgba, // Pillow: "LA;16B->LA not yet available"
        (8 or 16, 6) => ImageMode.Rgba,
        _ => throw context.Error($"unsupported PNG bit depth {depth} with colour type {colorType}"),
    };

    // Reads the filtered rows of one (sub)image and hands each unfiltered row to the callback.
    private static void ReadImage(Stream inflater, int width, int height, int bitsPerPixel, Action<int, byte[]> onRow, DecodeContext context)
    {
        int rowBytes = (int)(((long)width * bitsPerPixel + 7) / 8);
        int filterStride = Math.Max(1, bitsPerPixel / 8);
        var previous = new byte[rowBytes];
        var current = new byte[rowBytes];
        for (int y = 0; y < height; y++)
        {
            int filter = inflater.ReadByte();
            if (filter < 0 || inflater.ReadAtLeast(current, rowBytes, throwOnEndOfStream: false) < rowBytes)
                throw context.Error($"truncated PNG: the image data ends at row {y} of {height}");
            Unfilter(filter, current, previous, filterStride, context);
            onRow(y, current);
            (previous, current) = (current, previous);
        }
    }

    private static void Unfilter(int filter, Span<byte> row, ReadOnlySpan<byte> up, int bpp, DecodeContext context)
    {
        switch (filter)
        {
            case 0: break;
            case 1: for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp]; break;
            case 2: for (int i = 0; i < row.Length; i++) row[i] += up[i]; break;
            case 3:
                for (int i = 0; i < bpp && i < row.Length; i++) row[i] += (byte)(up[i] >> 1);
                for (int i = bpp; i < row.Length; i++) row[i] += (byte)((row[i - bpp] + up[i]) >> 1);
                break;
            case 4:
                for (int i = 0; i < bpp && i < row.Length; i++) row[i] += up[i]; // a = c = 0: Paeth picks b
                for (int i = bpp; i < row.Length; i++)
                {
                    int a = row[i - bpp], b = up[i], c = up[i - bpp];
                    int pa = Math.Abs(b - c), pb = Math.Abs(a - c), pc = Math.Abs(a + b - 2 * c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
            default: throw context.Error($"corrupt PNG: unknown row filter {filter}");
        }
    }

    // One unfiltered row to the stored layout of the mode (Unpack.c: unpack1, unpackL2/L4, "RGB;16B" keeps the MSB, ...).
    private static void Unpack(ReadOnlySpan<byte> row, int width, int depth, int colorType, byte[]? palette, Span<byte> output)
    {
        if (colorType == 3)
        {
            for (int x = 0; x < width; x++)
            {
                int index = Sample(row, x, depth);
                palette.AsSpan(3 * index, 3).CopyTo(output[(3 * x)..]);
            }
            return;
        }
        if (colorType == 0 && depth < 8)
        {
            // "1" stores 0/255; "L;2" scales by 0x55, "L;4" by 0x11.
            int scale = depth switch { 1 => 255, 2 => 0x55, _ => 0x11 };
            for (int x = 0; x < width; x++) output[x] = (byte)(Sample(row, x, depth) * scale);
            return;
        }
        if (depth == 8)
        {
            row[..output.Length].CopyTo(output);
            return;
        }
        switch (colorType) // 16-bit
        {
            case 0: // "I;16B" into mode I: keep the whole value (stored little-endian)
                for (int x = 0; x < width; x++) { output[2 * x] = row[2 * x + 1]; output[2 * x + 1] = row[2 * x]; }
                break;
            case 4: // "LA;16B" into RGBA: L, L, L, A high bytes
                for (int x = 0; x < width; x++)
                {
                    output[4 * x] = output[4 * x + 1] = output[4 * x + 2] = row[4 * x];
                    output[4 * x + 3] = row[4 * x + 2];
                }
                break;
            default: // "RGB;16B", "RGBA;16B": high bytes
                for (int i = 0; i < output.Length; i++) output[i] = row[2 * i];
                break;
        }
    }

    private static int Sample(ReadOnlySpan<byte> row, int x, int depth) => depth switch
    {
        8 => row[x],
        4 => (row[x >> 1] >> (4 - 4 * (x & 1))) & 0x0F,
        2 => (row[x >> 2] >> (6 - 2 * (x & 3))) & 0x03,
        _ => (row[x >> 3] >> (7 - (x & 7))) & 0x01,
    };

    // Pillow's ImagingPaletteNew starts from a grey ramp; PLTE overwrites its first entries.
    internal static byte[] PaletteTable(ReadOnlySpan<byte> entries)
    {
        var table = new byte[768];
        for (int i = 0; i < 256; i++) table[3 * i] = table[3 * i + 1] = table[3 * i + 2] = (byte)i;
        entries[..Math.Min(entries.Length, 768)].CopyTo(table);
        return table;
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        Span<char> name = stackalloc char[4];
        for (int i = 0; i < 4; i++) name[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        return new string(name);
    }
}
