using System.Buffers.Binary;

namespace OpenVision.Vision;

/// <summary>Windows bitmaps as Pillow 9.4's BmpImagePlugin reads them.</summary>
/// <remarks>1/4/8-bit images are "P", or "1"/"L" when the palette is the black-white pair or the grey ramp;
/// 16-bit is BGR;15 (or the 5-6-5 bitfields layout) scaled as v × 255 / 31; 24-bit is RGB; 32-bit is RGB with the
/// fourth byte ignored unless BITFIELDS declares an alpha mask (then RGBA). RLE4/RLE8 follow Pillow's decoder.</remarks>
internal static class BmpDecoder
{
    public static DecodedImage Decode(ReadOnlySpan<byte> data, DecodeContext context)
    {
        if (data.Length < 18) throw context.Error("truncated BMP: header");
        int dataOffset = BinaryPrimitives.ReadInt32LittleEndian(data[10..]);
        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
        if (headerSize is not (12 or 40 or 64 or 108 or 124)) throw context.Error($"unsupported BMP header type ({headerSize})");
        if (14 + headerSize > data.Length) throw context.Error("truncated BMP: header");
        var header = data.Slice(18, headerSize - 4);
        long width, height;
        int bits, compression = 0, colors = 0, paletteEntrySize;
        bool topDown = false;
        uint[]? masks = null;
        int position = 14 + headerSize;
        if (headerSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(header);
            height = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
            bits = BinaryPrimitives.ReadUInt16LittleEndian(header[6..]);
            paletteEntrySize = 3;
        }
        else
        {
            width = BinaryPrimitives.ReadInt32LittleEndian(header);
            int rawHeight = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
            topDown = rawHeight < 0; // Pillow: y_flip when the high byte is 0xFF
            height = topDown ? -(long)rawHeight : rawHeight;
            bits = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
            compression = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            colors = BinaryPrimitives.ReadInt32LittleEndian(header[28..]);
            paletteEntrySize = 4;
            if (compression == 3)
            {
                masks = new uint[4];
                if (header.Length >= 52)
                    for (int i = 0; i < 4; i++) masks[i] = BinaryPrimitives.ReadUInt32LittleEndian(header[(36 + 4 * i)..]);
                else
                {
                    if (position + 12 > data.Length) throw context.Error("truncated BMP: bitfield masks");
                    for (int i = 0; i < 3; i++) masks[i] = BinaryPrimitives.ReadUInt32LittleEndian(data[(position + 4 * i)..]);
                    position += 12;
                }
            }
        }
        context.CheckSize(width, height);
        if (colors == 0) colors = bits < 31 ? 1 << bits : 0;

        ImageMode mode;
        string layout; // Pillow raw mode
        switch (bits)
        {
            case 1 or 4 or 8: mode = ImageMode.P; layout = "P"; break;
            case 16: mode = ImageMode.Rgb; layout = "BGR;15"; break;
            case 24: mode = ImageMode.Rgb; layout = "BGR"; break;
            case 32: mode = ImageMode.Rgb; layout = "BGRX"; break;
            default: throw context.Error($"unsupported BMP pixel depth ({bits})");
        }
        if (compression == 3)
        {
            layout = (bits, masks![0], masks[1], masks[2], masks[3]) switch
            {
                (32, 0xFF0000, 0xFF00, 0xFF, 0) => "BGRX",
                (32, 0xFF000000, 0xFF0000, 0xFF00, 0) => "XBGR",
                (32, 0xFF000000, 0xFF0000, 0xFF00, 0xFF) => "ABGR",
                (32, 0xFF, 0xFF00, 0xFF0000, 0xFF000000) => "RGBA",
                (32, 0xFF0000, 0xFF00, 0xFF, 0xFF000000) or (32, 0, 0, 0, 0) => "BGRA",
                (24, 0xFF0000, 0xFF00, 0xFF, _) => "BGR",
                (16, 0xF800, 0x7E0, 0x1F, _) => "BGR;16",
                (16, 0x7C00, 0x3E0, 0x1F, _) => "BGR;15",
                _ => throw context.Error("unsupported BMP bitfields layout"),
            };
            if (layout.Contains('A')) mode = ImageMode.Rgba;
        }
        else if (compression is 1 or 2)
        {
            if (bits != (compression == 1 ? 8 : 4)) throw context.Error($"unsupported BMP: RLE{(compression == 1 ? 8 : 4)} with {bits}-bit pixels");
        }
        else if (compression != 0) throw context.Error($"unsupported BMP compression ({compression})");

        byte[]? palette = null;
        if (mode == ImageMode.P)
        {
            if (colors is <= 0 or > 65536) throw context.Error($"unsupported BMP palette size ({colors})");
            if (position + (long)paletteEntrySize * colors > data.Length) throw context.Error("truncated BMP: palette");
            var entries = data.Slice(position, paletteEntrySize * colors);
            bool grey = true;
            for (int i = 0; i < colors && grey; i++)
            {
                int expected = colors == 2 ? (i == 0 ? 0 : 255) : i;
                if (i >= 2 && colors == 2) break;
                var e = entries.Slice(i * paletteEntrySize, 3);
                grey = e[0] == expected && e[1] == expected && e[2] == expected;
            }
            if (grey) mode = colors == 2 ? ImageMode.Bilevel : ImageMode.L;
            else
            {
                var rgb = new byte[3 * Math.Min(colors, 256)];
                for (int i = 0; i < rgb.Length / 3; i++)
                {
                    rgb[3 * i] = entries[i * paletteEntrySize + 2];
                    rgb[3 * i + 1] = entries[i * paletteEntrySize + 1];
                    rgb[3 * i + 2] = entries[i * paletteEntrySize];
                }
                palette = PngDecoder.PaletteTable(rgb);
            }
        }
        // BmpImagePlugin: an offset pointing at the palette is moved past it; a zero offset means "right here".
        if (dataOffset == 14 + headerSize && bits <= 8) dataOffset += 4 * colors;
        if (dataOffset == 0) dataOffset = position + (bits <= 8 ? paletteEntrySize * colors : 0);

        int w = (int)width, h = (int)height;
        var indices = compression is 1 or 2
            ? BmpRle.Decode(data, dataOffset, w, h, compression == 2, context)
            : null;
        var pixels = new byte[(long)w * h * mode.BytesPerPixel()];
        int stride = (int)(((long)w * bits + 31) >> 3) & ~3;
        for (int y = 0; y < h; y++)
        {
            int outY = topDown ? y : h - 1 - y; // bottom-up unless the height was negative
            var outRow = pixels.AsSpan(outY * w * mode.BytesPerPixel(), w * mode.BytesPerPixel());
            if (indices != null)
            {
                // BmpRleDecoder builds rows in file order, which Pillow then treats as bottom-up rows.
                var src = indices.AsSpan(y * w, w);
                ExpandIndices(src, outRow, mode, palette);
                continue;
            }
            long start = dataOffset + (long)y * stride;
            if (start + stride > data.Length && start + (((long)w * bits + 7) >> 3) > data.Length)
                throw context.Error($"truncated BMP: pixel data ends at row {y} of {h}");
            var row = data.Slice((int)start, (int)Math.Min(stride, data.Length - start));
            UnpackRow(row, w, bits, layout, mode, palette, outRow);
        }
        return new DecodedImage(w, h, mode, pixels, ImageFormat.Bmp);
    }

    private static void UnpackRow(ReadOnlySpan<byte> row, int width, int bits, string layout, ImageMode mode, byte[]? palette, Span<byte> output)
    {
        if (bits <= 8)
        {
            Span<byte> index = stackalloc byte[1];
            for (int x = 0; x < width; x++)
            {
                index[0] = bits switch
                {
                    8 => row[x],
                    4 => (byte)((row[x >> 1] >> (4 - 4 * (x & 1))) & 0x0F),
                    _ => (byte)((row[x >> 3] >> (7 - (x & 7))) & 1),
                };
                ExpandIndices(index, output.Slice(x * mode.BytesPerPixel(), mode.BytesPerPixel()), mode, palette);
            }
            return;
        }
        for (int x = 0; x < width; x++)
        {
            var o = output.Slice(x * mode.StoredChannels(), mode.StoredChannels());
            switch (layout)
            {
                case "BGR;15" or "BGR;16":
                {
                    int v = row[2 * x] | (row[2 * x + 1] << 8);
                    bool is565 = layout == "BGR;16";
                    o[2] = (byte)((v & 31) * 255 / 31);
                    o[1] = is565 ? (byte)(((v >> 5) & 63) * 255 / 63) : (byte)(((v >> 5) & 31) * 255 / 31);
                    o[0] = (byte)(((v >> (is565 ? 11 : 10)) & 31) * 255 / 31);
                    break;
                }
                case "BGR": o[0] = row[3 * x + 2]; o[1] = row[3 * x + 1]; o[2] = row[3 * x]; break;
                default:
                {
                    var p = row.Slice(4 * x, 4);
                    (int r, int g, int b, int a) = layout switch
                    {
                        "BGRX" or "BGRA" => (2, 1, 0, 3),
                        "XBGR" or "ABGR" => (3, 2, 1, 0),
                        _ => (0, 1, 2, 3), // "RGBA"
                    };
                    o[0] = p[r]; o[1] = p[g]; o[2] = p[b];
                    if (mode == ImageMode.Rgba) o[3] = p[a];
                    break;
                }
            }
        }
    }

    // Bilevel/L keep the index (Pillow's grey-palette shortcut: "1" stores 0/255, "L" the index); P looks it up.
    private static void ExpandIndices(ReadOnlySpan<byte> indices, Span<byte> output, ImageMode mode, byte[]? palette)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            int v = indices[i];
            if (mode == ImageMode.Bilevel) output[i] = v != 0 ? (byte)255 : (byte)0;
            else if (mode == ImageMode.L) output[i] = (byte)v;
            else palette.AsSpan(3 * v, 3).CopyTo(output[(3 * i)..]);
        }
    }
}
