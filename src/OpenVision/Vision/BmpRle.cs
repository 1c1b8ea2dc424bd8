namespace OpenVision.Vision;

/// <summary>Pillow 9.4's BmpRleDecoder: RLE4/RLE8 runs to one index byte per pixel, rows in file order.</summary>
internal static class BmpRle
{
    public static byte[] Decode(ReadOnlySpan<byte> file, int offset, int width, int height, bool rle4, DecodeContext context)
    {
        long needed = (long)width * height;
        var data = new byte[needed];
        long length = 0; // bytes produced; Pillow's bytearray length
        int x = 0, pos = offset;
        void Append(byte value)
        {
            if (length < needed) data[length] = value;
            length++;
        }
        while (length < needed)
        {
            if (pos + 2 > file.Length) break;
            int count = file[pos], value = file[pos + 1];
            pos += 2;
            if (count != 0)
            {
                if (x + count > width) count = Math.Max(0, width - x); // too much data for the row
                for (int i = 0; i < count; i++) Append(rle4 ? (byte)(i % 2 == 0 ? value >> 4 : value & 0x0F) : (byte)value);
                x += count;
            }
            else if (value == 0) // end of line: pad to a whole row
            {
                while (length % width != 0) Append(0);
                x = 0;
            }
            else if (value == 1) break; // end of bitmap
            else if (value == 2) // delta
            {
                if (pos + 2 > file.Length) break;
                int right = file[pos], up = file[pos + 1];
                pos += 2;
                for (long i = 0; i < right + (long)up * width && length < needed; i++) Append(0);
                x = (int)(length % width);
            }
            else // absolute run of `value` pixels
            {
                int byteCount = rle4 ? value / 2 : value;
                int available = Math.Min(byteCount, file.Length - pos);
                for (int i = 0; i < available; i++)
                {
                    byte b = file[pos + i];
                    if (rle4) { Append((byte)(b >> 4)); Append((byte)(b & 0x0F)); }
                    else Append(b);
                }
                pos += available;
                if (available < byteCount) break;
                x += value;
                if (pos % 2 != 0) pos++; // word alignment, counted from the start of the file
            }
        }
        // Pillow then loads these bytes as a raw image and fails when they do not cover it.
        if (length < needed) throw context.Error($"truncated BMP: RLE data covers {length} of {needed} pixels");
        return data;
    }
}
