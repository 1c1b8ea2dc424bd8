using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace OpenVision.Tests.Vision;

/// <summary>Tiny encoders for hand-made test files (PNG chunks, BMP headers, literal-only GIF LZW).</summary>
internal static class TestImages
{
    public static byte[] Png(int width, int height, int depth, int colorType, byte[][] rows, byte[]? palette = null,
                             bool interlaced = false, byte[][][]? passes = null, int filter = 0)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(file, "IHDR", ihdr);
        if (palette != null) Chunk(file, "PLTE", palette);
        using var raw = new MemoryStream();
        int bpp = Math.Max(1, depth * (colorType switch { 0 or 3 => 1, 2 => 3, 4 => 2, _ => 4 }) / 8);
        byte[]? previous = null;
        foreach (var row in interlaced ? passes!.SelectMany(p => p) : rows)
        {
            raw.WriteByte((byte)filter);
            raw.Write(Filter(filter, row, previous?.Length == row.Length ? previous : new byte[row.Length], bpp)); // interlaced: filter 0 only
            previous = row;
        }
        Chunk(file, "IDAT", Deflate(raw.ToArray()));
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    // The PNG filters as an encoder applies them (the decoder's inverse is what the tests check).
    private static byte[] Filter(int type, byte[] row, byte[] up, int bpp)
    {
        var output = new byte[row.Length];
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
            int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            int predictor = type switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
            };
            output[i] = (byte)(row[i] - predictor);
        }
        return output;
    }

    public static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return output.ToArray();
    }

    public static void Chunk(Stream file, string type, byte[] body)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, body.Length);
        file.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(body).ToArray();
        file.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(length, Crc32(typed));
        file.Write(length);
    }

    public static uint Crc32(byte[] bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFFu;
    }

    /// <summary>A BMP with a BITMAPINFOHEADER (or a V4 header when masks are given); rows as stored (bottom-up unless topDown).</summary>
    public static byte[] Bmp(int width, int height, int bits, byte[][] storedRows, byte[]? paletteBgrx = null,
                             int compression = 0, uint[]? masks = null, bool topDown = false, byte[]? rawData = null)
    {
        int headerSize = masks != null ? 108 : 40;
        int paletteBytes = paletteBgrx?.Length ?? 0;
        int stride = ((width * bits + 31) >> 3) & ~3;
        byte[] pixels = rawData ?? storedRows.SelectMany(r => r.Concat(new byte[stride - r.Length])).ToArray();
        int offset = 14 + headerSize + paletteBytes;
        var file = new byte[offset + pixels.Length];
        file[0] = (byte)'B';
        file[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), offset);
        var h = file.AsSpan(14);
        BinaryPrimitives.WriteInt32LittleEndian(h, headerSize);
        BinaryPrimitives.WriteInt32LittleEndian(h[4..], width);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], topDown ? -height : height);
        BinaryPrimitives.WriteInt16LittleEndian(h[12..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(h[14..], (short)bits);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], compression);
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], pixels.Length);
        BinaryPrimitives.WriteInt32LittleEndian(h[32..], paletteBytes / 4);
        if (masks != null)
            for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt32LittleEndian(h[(40 + 4 * i)..], masks[i]);
        paletteBgrx?.CopyTo(file, 14 + headerSize);
        pixels.CopyTo(file, offset);
        return file;
    }

    /// <summary>A GIF whose LZW stream holds only literal codes (a clear code every 200), which any decoder reads.</summary>
    public static byte[] Gif(int screenWidth, int screenHeight, byte[]? globalPalette, int x0, int y0, int width, int height,
                             byte[] indices, int? transparency = null)
    {
        using var file = new MemoryStream();
        file.Write("GIF89a"u8);
        WriteU16(file, screenWidth);
        WriteU16(file, screenHeight);
        file.WriteByte(globalPalette != null ? (byte)0xF7 : (byte)0x00); // 256-entry table
        file.WriteByte(0);
        file.WriteByte(0);
        if (globalPalette != null) file.Write(globalPalette.Concat(new byte[768 - globalPalette.Length]).ToArray());
        if (transparency is int t) file.Write([0x21, 0xF9, 4, 1, 0, 0, (byte)t, 0]);
        file.WriteByte(0x2C);
        WriteU16(file, x0);
        WriteU16(file, y0);
        WriteU16(file, width);
        WriteU16(file, height);
        file.WriteByte(0);
        file.WriteByte(8); // LZW minimum code size: 9-bit codes, clear 256, end 257
        var codes = new List<int> { 256 };
        for (int i = 0; i < indices.Length; i++)
        {
            if (i > 0 && i % 200 == 0) codes.Add(256);
            codes.Add(indices[i]);
        }
        codes.Add(257);
        var packed = new List<byte>();
        int buffer = 0, count = 0;
        foreach (int code in codes)
        {
            buffer |= code << count;
            count += 9;
            while (count >= 8) { packed.Add((byte)buffer); buffer >>= 8; count -= 8; }
        }
        if (count > 0) packed.Add((byte)buffer);
        for (int i = 0; i < packed.Count; i += 255)
        {
            int n = Math.Min(255, packed.Count - i);
            file.WriteByte((byte)n);
            file.Write(packed.GetRange(i, n).ToArray());
        }
        file.WriteByte(0);
        file.WriteByte(0x3B);
        return file.ToArray();
    }

    private static void WriteU16(Stream s, int v)
    {
        s.WriteByte((byte)v);
        s.WriteByte((byte)(v >> 8));
    }
}
