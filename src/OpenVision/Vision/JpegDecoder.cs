using System.Buffers.Binary;
using BitMiracle.LibJpeg.Classic;

namespace OpenVision.Vision;

/// <summary>JPEG as Pillow 9.4 reads it: 1 component is "L", 3 are "RGB", 4 are "CMYK" (Adobe polarity assumed,
/// as Pillow's rawmode "CMYK;I" does); other precisions or component counts are errors.</summary>
/// <remarks>Grey and YCbCr go through libjpeg-turbo's SIMD build where the package carries it (<see cref="TurboJpeg"/>),
/// otherwise through SkiaSharp (libjpeg-turbo without SIMD); both with ISLOW IDCT and fancy upsampling, Pillow's settings.
/// CMYK goes through BitMiracle.LibJpeg.NET (a port of IJG libjpeg with the same ISLOW IDCT), which gives the raw
/// samples Pillow resizes. Measured against libjpeg-turbo: unsubsampled CMYK and YCCK decode bit-exact; with
/// subsampled components (YCCK with 2×2 Y and K, libjpeg's default) its upsampling differs by up to 7 levels.</remarks>
internal static class JpegDecoder
{
    public static DecodedImage Decode(ReadOnlySpan<byte> data, DecodeContext context)
    {
        var (precision, width, height, components) = ReadFrameHeader(data, context);
        if (precision != 8) throw context.Error($"cannot handle {precision}-bit JPEG layers");
        context.CheckSize(width, height);
        switch (components)
        {
            case 1 or 3:
                var mode = components == 1 ? ImageMode.L : ImageMode.Rgb;
                if (!TurboJpeg.Available) return new DecodedImage(width, height, mode, DecodeWithSkia(data, width, height, components, context), ImageFormat.Jpeg);
                if (context.Lease) return new DecodedImage(width, height, mode, TurboJpeg.DecodeLeased(data, width, height, components, context), ImageFormat.Jpeg, leased: true);
                return new DecodedImage(width, height, mode, TurboJpeg.Decode(data, width, height, components, context), ImageFormat.Jpeg);
            case 4:
                return new DecodedImage(width, height, ImageMode.Cmyk, DecodeCmyk(data, width, height, context), ImageFormat.Jpeg);
            default:
                throw context.Error($"cannot handle {components}-layer JPEG images");
        }
    }

    /// <summary>Grey (1 component) or RGB (3) through SkiaSharp: the decoder where the libjpeg-turbo shim is absent.</summary>
    internal static byte[] DecodeWithSkia(ReadOnlySpan<byte> data, int width, int height, int components, DecodeContext context) =>
        components == 1
            ? SkiaCodec.Decode(data, width, height, grey: true, context, "JPEG")
            : SkiaCodec.RgbaToRgb(SkiaCodec.Decode(data, width, height, grey: false, context, "JPEG"));

    // Walks the marker segments up to the first start-of-frame.
    private static (int Precision, int Width, int Height, int Components) ReadFrameHeader(ReadOnlySpan<byte> data, DecodeContext context)
    {
        int pos = 2;
        while (true)
        {
            while (pos < data.Length && data[pos] != 0xFF) pos++; // skip garbage between segments, as libjpeg warns and does
            while (pos < data.Length && data[pos] == 0xFF) pos++; // fill bytes
            if (pos >= data.Length) throw context.Error("truncated JPEG: no frame header (SOF)");
            byte marker = data[pos++];
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // no length field
            if (marker == 0xD9 || marker == 0xDA) throw context.Error("corrupt JPEG: no frame header (SOF) before the image data");
            if (pos + 2 > data.Length) throw context.Error("truncated JPEG: marker segment");
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            if (length < 2 || pos + length > data.Length) throw context.Error("truncated JPEG: marker segment");
            bool isFrame = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
            if (isFrame)
            {
                if (length < 8) throw context.Error("corrupt JPEG: short frame header");
                var sof = data.Slice(pos + 2, length - 2);
                return (sof[0], BinaryPrimitives.ReadUInt16BigEndian(sof[3..]), BinaryPrimitives.ReadUInt16BigEndian(sof[1..]), sof[5]);
            }
            pos += length;
        }
    }

    private static byte[] DecodeCmyk(ReadOnlySpan<byte> data, int width, int height, DecodeContext context)
    {
        var decompressor = new jpeg_decompress_struct(new StrictErrorManager());
        try
        {
            using var stream = new MemoryStream(data.ToArray(), writable: false);
            decompressor.jpeg_stdio_src(stream);
            decompressor.jpeg_read_header(true);
            decompressor.Out_color_space = J_COLOR_SPACE.JCS_CMYK; // YCCK is converted to CMYK by the library
            decompressor.Dct_method = J_DCT_METHOD.JDCT_ISLOW;
            decompressor.Do_fancy_upsampling = true;
            decompressor.jpeg_start_decompress();
            if (decompressor.Output_width != width || decompressor.Output_height != height || decompressor.Output_components != 4)
                throw context.Error("corrupt JPEG: CMYK frame does not match its header");
            var pixels = new byte[(long)width * height * 4];
            var row = new[] { new byte[width * 4] };
            for (int y = 0; y < height; y++)
            {
                if (decompressor.jpeg_read_scanlines(row, 1) != 1) throw context.Error($"truncated JPEG: row {y} of {height}");
                // Pillow's "CMYK;I": Adobe writes inverted ink values.
                var target = pixels.AsSpan(y * width * 4, width * 4);
                for (int i = 0; i < target.Length; i++) target[i] = (byte)(255 - row[0][i]);
            }
            decompressor.jpeg_finish_decompress();
            return pixels;
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new ImageDecodeException(context.Name, $"corrupt or truncated JPEG: {e.Message}", e);
        }
        finally
        {
            decompressor.jpeg_destroy();
        }
    }

    // Silent (library code writes nothing), and fails on the premature-end warning: libjpeg would otherwise
    // pad a truncated file with grey, where Pillow raises.
    private sealed class StrictErrorManager : jpeg_error_mgr
    {
        public override void output_message() { }

        public override void emit_message(int msg_level)
        {
            if (msg_level < 0)
            {
                string message = format_message();
                if (message.Contains("Premature end", StringComparison.OrdinalIgnoreCase)) throw new EndOfStreamException(message);
            }
        }
    }
}
