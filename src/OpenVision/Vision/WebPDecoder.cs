using System.Buffers.Binary;

namespace OpenVision.Vision;

/// <summary>WebP through SkiaSharp's libwebp. Pillow's mode is "RGBA" when libwebp reports alpha
/// (VP8X alpha flag, or the VP8L header's alpha bit), else "RGB".</summary>
internal static class WebPDecoder
{
    public static DecodedImage Decode(ReadOnlySpan<byte> data, DecodeContext context)
    {
        var (width, height, alpha) = ReadHeader(data, context);
        context.CheckSize(width, height);
        var rgba = SkiaCodec.Decode(data, width, height, grey: false, context, "WebP");
        return alpha
            ? new DecodedImage(width, height, ImageMode.Rgba, rgba, ImageFormat.WebP)
            : new DecodedImage(width, height, ImageMode.Rgb, SkiaCodec.RgbaToRgb(rgba), ImageFormat.WebP);
    }

    private static (int Width, int Height, bool Alpha) ReadHeader(ReadOnlySpan<byte> data, DecodeContext context)
    {
        if (data.Length < 30) throw context.Error("truncated WebP: header");
        var chunk = data.Slice(12, 4);
        var body = data[20..];
        if (chunk.SequenceEqual("VP8X"u8))
        {
            // Canvas size is stored minus one in 24-bit fields; alpha is flag bit 4 (an ALPH chunk also sets it).
            int w = 1 + (body[4] | body[5] << 8 | body[6] << 16), h = 1 + (body[7] | body[8] << 8 | body[9] << 16);
            bool alpha = (body[0] & 0x10) != 0 || ContainsChunk(data, "ALPH"u8);
            return (w, h, alpha);
        }
        if (chunk.SequenceEqual("VP8L"u8))
        {
            if (body[0] != 0x2F) throw context.Error("corrupt WebP: bad lossless signature");
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(body[1..]);
            return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1, ((bits >> 28) & 1) != 0);
        }
        if (chunk.SequenceEqual("VP8 "u8))
        {
            if (body[3] != 0x9D || body[4] != 0x01 || body[5] != 0x2A) throw context.Error("corrupt WebP: bad lossy frame signature");
            return (BinaryPrimitives.ReadUInt16LittleEndian(body[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(body[8..]) & 0x3FFF, false);
        }
        throw context.Error($"unsupported WebP chunk {System.Text.Encoding.ASCII.GetString(chunk)}");
    }

    private static bool ContainsChunk(ReadOnlySpan<byte> data, ReadOnlySpan<byte> fourCc)
    {
        for (long pos = 12; pos + 8 <= data.Length;)
        {
            if (data.Slice((int)pos, 4).SequenceEqual(fourCc)) return true;
            pos += 8 + ((BinaryPrimitives.ReadUInt32LittleEndian(data[((int)pos + 4)..]) + 1) & ~1u);
        }
        return false;
    }
}
