using System.Buffers.Binary;

namespace OpenVision.Vision;

/// <summary>The first frame of a GIF as Pillow 9.4 loads it (GifImagePlugin, GifDecode.c).</summary>
/// <remarks>Mode "P" when the frame's palette (local, else global) is not the identity grey ramp, else "L".
/// The canvas is the logical screen (grown to hold the frame), filled with the transparency index when the
/// frame has one, else index 0; the frame is written including its transparent pixels, whose palette colour is
/// what convert('RGB') shows.</remarks>
internal static class GifDecoder
{
    private const int TableSize = 4096;

    public static DecodedImage Decode(ReadOnlySpan<byte> data, DecodeContext context)
    {
        if (data.Length < 13) throw context.Error("truncated GIF: no logical screen descriptor");
        int screenWidth = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]), screenHeight = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
        int pos = 13;
        byte[]? globalPalette = null;
        if ((data[10] & 0x80) != 0)
        {
            int size = 3 << ((data[10] & 7) + 1);
            if (pos + size > data.Length) throw context.Error("truncated GIF: global palette");
            if (NeedsPalette(data.Slice(pos, size))) globalPalette = data.Slice(pos, size).ToArray();
            pos += size;
        }

        int? transparency = null;
        while (true)
        {
            if (pos >= data.Length || data[pos] == 0x3B) throw context.Error("GIF has no image frame");
            byte tag = data[pos++];
            if (tag == 0x21)
            {
                if (pos >= data.Length) throw context.Error("truncated GIF: extension");
                byte label = data[pos++];
                int blockStart = pos;
                pos = SkipSubBlocks(data, pos, context);
                if (label == 0xF9 && data[blockStart] >= 4 && (data[blockStart + 1] & 1) != 0) transparency = data[blockStart + 4];
            }
            else if (tag == 0x2C) break;
            // Pillow skips any other byte between blocks.
        }

        if (pos + 9 > data.Length) throw context.Error("truncated GIF: image descriptor");
        int x0 = BinaryPrimitives.ReadUInt16LittleEndian(data[pos..]), y0 = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + 2)..]);
        int frameWidth = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + 4)..]), frameHeight = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + 6)..]);
        byte flags = data[pos + 8];
        pos += 9;
        int width = Math.Max(screenWidth, x0 + frameWidth), height = Math.Max(screenHeight, y0 + frameHeight);
        context.CheckSize(width, height);
        byte[]? palette = globalPalette;
        if ((flags & 0x80) != 0)
        {
            int size = 3 << ((flags & 7) + 1);
            if (pos + size > data.Length) throw context.Error("truncated GIF: local palette");
            palette = NeedsPalette(data.Slice(pos, size)) ? data.Slice(pos, size).ToArray() : null;
            pos += size;
        }
        if (pos >= data.Length) throw context.Error("truncated GIF: no image data");
        int minCodeSize = data[pos++];
        if (minCodeSize > 11) throw context.Error($"corrupt GIF: LZW code size {minCodeSize}");

        var indices = new byte[(long)width * height];
        if (transparency is int t) indices.AsSpan().Fill((byte)t);
        if (frameWidth > 0 && frameHeight > 0)
            DecodeLzw(data, pos, minCodeSize, (flags & 0x40) != 0, indices, width, x0, y0, frameWidth, frameHeight, context);

        if (palette is null) return new DecodedImage(width, height, ImageMode.L, indices, ImageFormat.Gif);
        var table = PngDecoder.PaletteTable(palette);
        var rgb = new byte[indices.LongLength * 3];
        for (long i = 0; i < indices.LongLength; i++)
        {
            int p = 3 * indices[i];
            rgb[3 * i] = table[p];
            rgb[3 * i + 1] = table[p + 1];
            rgb[3 * i + 2] = table[p + 2];
        }
        return new DecodedImage(width, height, ImageMode.P, rgb, ImageFormat.Gif);
    }

    // GifImagePlugin._is_palette_needed: a palette that maps every index i to (i, i, i) is dropped (mode "L").
    private static bool NeedsPalette(ReadOnlySpan<byte> p)
    {
        for (int i = 0; i + 2 < p.Length; i += 3)
            if (!(i / 3 == p[i] && p[i] == p[i + 1] && p[i + 1] == p[i + 2])) return true;
        return false;
    }

    private static int SkipSubBlocks(ReadOnlySpan<byte> data, int pos, DecodeContext context)
    {
        while (true)
        {
            if (pos >= data.Length) throw context.Error("truncated GIF: data sub-blocks");
            int size = data[pos++];
            if (size == 0) return pos;
            pos += size;
        }
    }

    // GifDecode.c: LZW with Pillow's rules (first code after a clear must be a literal, code == next allowed,
    // no new entries once the table is full), rows in interlaced order; decoding stops when the frame is full.
    private static void DecodeLzw(ReadOnlySpan<byte> data, int pos, int bits, bool interlace, byte[] image, int stride,
                                  int x0, int y0, int frameWidth, int frameHeight, DecodeContext context)
    {
        int clear = 1 << bits, end = clear + 1;
        var link = new short[TableSize];
        var suffix = new byte[TableSize];
        var stack = new byte[TableSize + 1];
        int next = 0, codeSize = 0, codeMask = 0, lastCode = 0;
        byte lastData = 0;
        bool first = true;
        void Reset() { next = clear + 2; codeSize = bits + 1; codeMask = (1 << codeSize) - 1; first = true; }
        Reset();

        int x = 0, y = 0, step = interlace ? 8 : 1, passStage = interlace ? 1 : 0;
        int bitBuffer = 0, bitCount = 0, blockLeft = 0;
        while (true)
        {
            while (bitCount < codeSize)
            {
                if (blockLeft == 0)
                {
                    if (pos >= data.Length || data[pos] == 0)
                        throw context.Error($"truncated GIF: image data ends after {y * frameWidth + x} of {frameWidth * frameHeight} pixels");
                    blockLeft = data[pos++];
                }
                if (pos >= data.Length) throw context.Error("truncated GIF: image data");
                bitBuffer |= data[pos++] << bitCount;
                bitCount += 8;
                blockLeft--;
            }
            int c = bitBuffer & codeMask;
            bitBuffer >>= codeSize;
            bitCount -= codeSize;
            if (c == clear) { Reset(); continue; }
            if (c == end) throw context.Error("corrupt GIF: end of image data before the frame is complete");

            int count;
            if (first)
            {
                if (c > clear) throw context.Error("corrupt GIF: LZW stream starts with an undefined code");
                lastData = (byte)c;
                lastCode = c;
                first = false;
                stack[0] = (byte)c;
                count = 1;
            }
            else
            {
                int thisCode = c, top = stack.Length;
                if (c > next) throw context.Error("corrupt GIF: undefined LZW code");
                if (c == next)
                {
                    stack[--top] = lastData;
                    c = lastCode;
                }
                while (c >= clear)
                {
                    if (top <= 0 || c >= TableSize) throw context.Error("corrupt GIF: LZW string too long");
                    stack[--top] = suffix[c];
                    c = link[c];
                }
                stack[--top] = (byte)c;
                lastData = (byte)c;
                if (next < TableSize)
                {
                    suffix[next] = (byte)c;
                    link[next] = (short)lastCode;
                    if (next == codeMask && codeSize < 12) { codeSize++; codeMask = (1 << codeSize) - 1; }
                    next++;
                }
                lastCode = thisCode;
                count = stack.Length - top;
                stack.AsSpan(top, count).CopyTo(stack); // move the string to the front
            }

            for (int i = 0; i < count; i++)
            {
                image[(long)(y0 + y) * stride + x0 + x] = stack[i];
                if (++x < frameWidth) continue;
                x = 0;
                y += step;
                while (y >= frameHeight)
                {
                    // Interlaced passes start at rows 4, 2, 1 with steps 8, 4, 2.
                    switch (passStage)
                    {
                        case 1: y = 4; step = 8; passStage = 2; break;
                        case 2: y = 2; step = 4; passStage = 3; break;
                        case 3: y = 1; step = 2; passStage = 4; break;
                        default: return; // frame complete
                    }
                }
            }
        }
    }
}
