using System.Buffers.Binary;
using System.IO.Compression;
using OpenVision.Training;
using OpenVision.Training.Data;

namespace OpenVision.Lab.Datasets;

/// <summary>Reads IDX files, plain or gzip-compressed (detected from the first bytes, not the name), and checks them:
/// the magic number, the element type (unsigned byte), the dimensions and the data length. Errors name the file.</summary>
public static class IdxFile
{
    /// <summary>Reads the IDX file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid unsigned-byte IDX file.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>Reads an IDX file from <paramref name="stream"/>; <paramref name="name"/> is used in errors.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid unsigned-byte IDX file.</exception>
    public static IdxArray Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes;
        try
        {
            bytes = ReadAll(stream);
            if (bytes.Length >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B)
            {
                using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                bytes = ReadAll(gzip);
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{name}: corrupt gzip data ({e.Message})", e);
        }
        return Parse(bytes, name);
    }

    /// <summary>Writes unsigned bytes as an uncompressed IDX file (what <see cref="Read(string)"/> reads): the magic
    /// 0x0000 08 rank, each dimension as a big-endian int32, then the data.</summary>
    /// <exception cref="ArgumentException">The dimensions do not describe <paramref name="data"/>'s length.</exception>
    public static void Write(string path, IReadOnlyList<int> dims, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Count is < 1 or > 255 || dims.Any(d => d < 0) || dims.Aggregate(1L, (n, d) => n * d) != data.Length)
            throw new ArgumentException($"IDX dimensions [{string.Join(", ", dims)}] do not describe {data.Length} bytes", nameof(dims));
        var header = new byte[4 + 4 * dims.Count];
        header[2] = 0x08;
        header[3] = (byte)dims.Count;
        for (int i = 0; i < dims.Count; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);
        using var file = File.Create(path);
        file.Write(header);
        file.Write(data);
    }

    private static IdxArray Parse(byte[] bytes, string name)
    {
        // Magic: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{name}: not an IDX file (magic {Convert.ToHexString(bytes.AsSpan(0, Math.Min(4, bytes.Length)))}, expected 0000xxyy)");
        if (bytes[2] != 0x08) throw new InvalidDataException($"{name}: IDX element type 0x{bytes[2]:X2} is not supported (only 0x08, unsigned byte)");
        int rank = bytes[3];
        if (rank < 1) throw new InvalidDataException($"{name}: IDX file with no dimensions");
        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength) throw new InvalidDataException($"{name}: truncated IDX header ({bytes.Length} bytes, {headerLength} needed for {rank} dimensions)");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new InvalidDataException($"{name}: negative IDX dimension {dims[i]}");
            count *= dims[i];
            if (count > Array.MaxLength) throw new InvalidDataException($"{name}: IDX dimensions {string.Join("x", dims.Take(i + 1))} are too large");
        }
        long actual = bytes.Length - headerLength;
        if (actual != count)
            throw new InvalidDataException($"{name}: IDX dimensions {string.Join("x", dims)} need {count} bytes of data, the file has {actual}{(actual < count ? " (truncated?)" : "")}");
        return new IdxArray(dims, bytes.AsSpan(headerLength).ToArray());
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
