using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using OpenVision.Checkpoints;

namespace OpenVision.IO;

/// <summary>Reads and writes NumPy <c>.npy</c> arrays (format 1.0–3.0, little-endian, C order), the exchange format
/// for preprocessed pixels, token ids and embeddings.</summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads an array; errors name the file.</summary>
    public static TensorData Read(string path)
    {
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputFileException(path, $"cannot read the file: {e.Message}"); }
        if (data.Length < 10 || !data.AsSpan(0, 6).SequenceEqual(Magic)) throw new NpyFormatException(path, "not a .npy file (bad magic)");
        int major = data[6];
        int headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3 && data.Length >= 12) { headerLength = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(8)), int.MaxValue); headerStart = 12; }
        else throw new NpyFormatException(path, $"unsupported .npy version {major}");
        if (headerStart + (long)headerLength > data.Length) throw new NpyFormatException(path, "truncated .npy header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(data, headerStart, headerLength);

        var descr = DescrPattern().Match(header);
        var order = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !order.Success || !shape.Success) throw new NpyFormatException(path, $"unreadable .npy header: {header.Trim()}");
        if (order.Groups[1].Value == "True") throw new NpyFormatException(path, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
        var dtype = ParseDescr(descr.Groups[1].Value, path);
        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n
                : throw new NpyFormatException(path, $"unreadable .npy shape ({shape.Groups[1].Value.Trim()})")).ToArray();
        long bytes;
        try { bytes = checked(dims.Aggregate(1L, (a, b) => checked(a * b)) * dtype.ElementSize()); }
        catch (OverflowException) { throw new NpyFormatException(path, $"shape ({string.Join(", ", dims)}) of {dtype} is too large to hold"); }
        int dataStart = headerStart + headerLength;
        if (data.LongLength - dataStart != bytes)
            throw new NpyFormatException(path, $"holds {data.LongLength - dataStart} data bytes but shape ({string.Join(", ", dims)}) of {dtype} needs {bytes}");
        return new TensorData(dtype, dims, data[dataStart..]);
    }

    /// <summary>Writes an array atomically (temporary file, then rename).</summary>
    public static void Write(string path, TensorData tensor)
    {
        AtomicFile.Write(path, stream =>
        {
            WriteHeader(stream, tensor.DType, tensor.Shape);
            stream.Write(tensor.Bytes);
        });
    }

    /// <summary>Writes the magic, version and header of an array whose data the caller then writes.</summary>
    public static void WriteHeader(Stream stream, TensorDType dtype, long[] shape)
    {
        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0]},)",
            _ => "(" + string.Join(", ", shape) + ")",
        };
        string dict = $"{{'descr': '{Descr(dtype)}', 'fortran_order': False, 'shape': {shapeText}, }}";
        // Pad with spaces so magic + length + header (ending in '\n') is a multiple of 64, as NumPy does.
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
    }

    private static string Descr(TensorDType dtype) => dtype switch
    {
        TensorDType.F16 => "<f2",
        TensorDType.F32 => "<f4",
        TensorDType.F64 => "<f8",
        TensorDType.I8 => "|i1",
        TensorDType.I16 => "<i2",
        TensorDType.I32 => "<i4",
        TensorDType.I64 => "<i8",
        TensorDType.U8 => "|u1",
        TensorDType.Bool => "|b1",
        _ => throw new NotSupportedException($"{dtype} has no .npy equivalent"),
    };

    private static TensorDType ParseDescr(string descr, string path) => descr switch
    {
        "<f2" => TensorDType.F16,
        "<f4" => TensorDType.F32,
        "<f8" => TensorDType.F64,
        "|i1" or "<i1" => TensorDType.I8,
        "<i2" => TensorDType.I16,
        "<i4" => TensorDType.I32,
        "<i8" => TensorDType.I64,
        "|u1" or "<u1" => TensorDType.U8,
        "|b1" => TensorDType.Bool,
        _ when descr.StartsWith('>') => throw new NpyFormatException(path, $"big-endian dtype '{descr}' is not supported"),
        _ => throw new NpyFormatException(path, $"unsupported dtype '{descr}'"),
    };

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
