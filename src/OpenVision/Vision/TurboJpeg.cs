using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using OpenVision.Native;

namespace OpenVision.Vision;

/// <summary>Grey and YCbCr JPEG decoding through libjpeg-turbo's SIMD build and the small shim
/// <c>libopenvision_jpeg.so</c>: about twice as fast as SkiaSharp's libjpeg-turbo, which is built without its SIMD
/// kernels, and the same pixels (Pillow's settings: ISLOW IDCT, fancy upsampling).</summary>
/// <remarks>The package carries the libjpeg.so.62 the shim was linked against beside it, and the shim looks there first
/// (RUNPATH $ORIGIN), so the system needs no libjpeg of its own. Used where the shim was built (Linux x86-64 with a C
/// compiler and libjpeg's headers where the package was built) and loads; otherwise, or with
/// <c>OPENVISION_JPEG_SHIM=0</c>, JPEGs go through SkiaSharp.</remarks>
internal static unsafe class TurboJpeg
{
    public const string ShimFileName = "libopenvision_jpeg.so";

    private const int Ok = 0, Truncated = 1, Failed = 2, Mismatch = 3;

    private static readonly delegate* unmanaged<byte*, nuint, byte*, int, int, int, byte*, int, int> DecodeFunction = Load(out Status);

    /// <summary>"libjpeg-turbo (SIMD)", or why JPEGs go through SkiaSharp.</summary>
    public static readonly string Status;

    public static bool Available => DecodeFunction != null;

    private static delegate* unmanaged<byte*, nuint, byte*, int, int, int, byte*, int, int> Load(out string status)
    {
        if (NativeLibraries.TryLoadShipped(ShimFileName, "OPENVISION_JPEG_SHIM", out var handle) is { } whyNot)
        {
            status = $"SkiaSharp ({whyNot})";
            return null;
        }
        if (!NativeLibrary.TryGetExport(handle, "ov_jpeg_decode", out var function))
        {
            status = $"SkiaSharp ({ShimFileName} has no ov_jpeg_decode)";
            return null;
        }
        status = "libjpeg-turbo (SIMD)";
        return (delegate* unmanaged<byte*, nuint, byte*, int, int, int, byte*, int, int>)function;
    }

    /// <summary>Decodes into a new width × height × components array (1: grey, 3: RGB); errors name the file.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> data, int width, int height, int components, DecodeContext context) =>
        DecodeInto(data, width, height, components, context, GC.AllocateUninitializedArray<byte>(checked(width * height * components)));

    /// <summary>Decodes into an array rented from <see cref="ArrayPool{T}.Shared"/> (possibly longer than the image);
    /// on an error the array goes back to the pool.</summary>
    public static byte[] DecodeLeased(ReadOnlySpan<byte> data, int width, int height, int components, DecodeContext context)
    {
        var pixels = ArrayPool<byte>.Shared.Rent(checked(width * height * components));
        try
        {
            return DecodeInto(data, width, height, components, context, pixels);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(pixels);
            throw;
        }
    }

    private static byte[] DecodeInto(ReadOnlySpan<byte> data, int width, int height, int components, DecodeContext context, byte[] pixels)
    {
        if (DecodeFunction == null) throw new InvalidOperationException("the system JPEG decoder is not available");
        byte* message = stackalloc byte[256];
        int result;
        fixed (byte* input = data)
        fixed (byte* output = pixels)
            result = DecodeFunction(input, (nuint)data.Length, output, width, height, components, message, 256);
        return result switch
        {
            Ok => pixels,
            Truncated => throw context.Error("truncated JPEG: the data ends before the image is complete"),
            Mismatch => throw context.Error("corrupt JPEG: the decoder's frame does not match the frame header"),
            _ => throw context.Error($"corrupt JPEG data ({Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(message))})"),
        };
    }
}
