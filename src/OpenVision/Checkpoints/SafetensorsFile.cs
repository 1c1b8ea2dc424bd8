using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace OpenVision.Checkpoints;

/// <summary>Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header, raw data.</summary>
/// <remarks>Every offset and shape is validated before any data is trusted: a hostile header cannot make us read
/// outside the file, allocate more than the file holds, or return two tensors that alias each other.</remarks>
public static class SafetensorsFile
{
    // The reference implementation refuses headers over 100 MB; so do we, before allocating anything.
    private const long MaxHeaderBytes = 100_000_000;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads every tensor of the file at <paramref name="path"/>.</summary>
    public static Dictionary<string, TensorData> Read(string path) => Read(path, out _);

    /// <summary>Reads every tensor and the optional <c>__metadata__</c> string map.</summary>
    public static Dictionary<string, TensorData> Read(string path, out Dictionary<string, string> metadata)
    {
        using var stream = OpenForRead(path);
        return Read(stream, path, out metadata);
    }

    /// <summary>Reads a safetensors stream; <paramref name="name"/> is used in error messages.</summary>
    public static Dictionary<string, TensorData> Read(Stream stream, string name, out Dictionary<string, string> metadata)
    {
        var (headerBytes, dataStart, dataLength) = ReadHeaderBytes(stream, name);
        var entries = ParseHeader(headerBytes, name, dataLength, out metadata);
        var result = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (key, dtype, shape, begin, end) in entries)
        {
            var bytes = new byte[end - begin];
            stream.Position = dataStart + begin;
            stream.ReadExactly(bytes);
            result[key] = new TensorData(dtype, shape, bytes);
        }
        return result;
    }

    /// <summary>Reads only the header: names, dtypes and shapes, without loading data.</summary>
    public static IReadOnlyList<(string Name, TensorDType DType, long[] Shape)> ReadHeader(string path)
    {
        using var stream = OpenForRead(path);
        var (headerBytes, _, dataLength) = ReadHeaderBytes(stream, path);
        return ParseHeader(headerBytes, path, dataLength, out _).Select(e => (e.Key, e.DType, e.Shape)).ToList();
    }

    // The 8-byte length and the JSON header, validated against the file size before anything is allocated.
    private static (byte[] Header, long DataStart, long DataLength) ReadHeaderBytes(Stream stream, string name)
    {
        long fileLength = stream.Length;
        if (fileLength < 8) throw new CheckpointFormatException(name, $"not a safetensors file: {fileLength} bytes, too short for the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new CheckpointFormatException(name, $"safetensors header claims {headerLength} bytes, over the {MaxHeaderBytes}-byte limit of the format");
        if ((long)headerLength > fileLength - 8)
            throw new CheckpointFormatException(name, $"safetensors header claims {headerLength} bytes but the file has {fileLength - 8} after the length field");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        return (headerBytes, dataStart, fileLength - dataStart);
    }

    private static FileStream OpenForRead(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException(path, e.Message, e);
        }
    }

    // The rules of the reference reader (huggingface/safetensors, SafeTensors::read_metadata and Metadata::validate):
    // the header is UTF-8 JSON (whitespace around the object is allowed: writers pad it with spaces); tensors sorted by
    // offset must tile the data section from byte 0 to its last byte with no gap or overlap; each holds exactly
    // numel * dtype size bytes. Duplicate names, which the reference would silently collapse, are refused here.
    private static List<(string Key, TensorDType DType, long[] Shape, long Begin, long End)> ParseHeader(
        byte[] headerBytes, string name, long dataLength, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try { StrictUtf8.GetCharCount(headerBytes); }
        catch (DecoderFallbackException) { throw new CheckpointFormatException(name, "safetensors header is not valid UTF-8"); }
        JsonDocument document;
        try { document = JsonDocument.Parse(headerBytes); }
        catch (JsonException e) { throw new CheckpointFormatException(name, $"safetensors header is not valid JSON ({OneLine(e.Message)})", e); }
        using var _ = document;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(name, "safetensors header is not a JSON object");

        var entries = new List<(string Key, TensorDType DType, long[] Shape, long Begin, long End)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!seen.Add(property.Name))
                throw new CheckpointFormatException(name, $"safetensors header names '{property.Name}' twice");
            if (property.Name == "__metadata__") ReadMetadata(property.Value, name, metadata);
            else entries.Add(ParseEntry(property, name, dataLength));
        }
        CheckTiling(entries, name, dataLength);
        return entries;
    }

    private static void ReadMetadata(JsonElement value, string name, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(name, "__metadata__ is not an object of strings");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(name, $"__metadata__ value '{m.Name}' is not a string");
            if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                throw new CheckpointFormatException(name, $"__metadata__ names '{m.Name}' twice");
        }
    }

    // A gap would shift every later tensor onto the wrong bytes, and bytes left over at the end mean the header length
    // field is wrong (a header that ends inside its own space padding); both are refused, as the reference does.
    private static void CheckTiling(List<(string Key, TensorDType DType, long[] Shape, long Begin, long End)> entries, string name, long dataLength)
    {
        long next = 0;
        string previous = "the start of the data section";
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != next)
                throw new CheckpointFormatException(name, e.Begin < next
                    ? $"tensor '{e.Key}' data_offsets [{e.Begin}, {e.End}] overlap {previous}, which ends at byte {next}"
                    : $"tensor '{e.Key}' data_offsets [{e.Begin}, {e.End}] leave a gap after {previous}, which ends at byte {next}");
            next = e.End;
            previous = $"tensor '{e.Key}'";
        }
        if (next != dataLength)
            throw new CheckpointFormatException(name,
                $"the tensors cover {next} bytes but the data section after the header has {dataLength} (wrong header length, or trailing data)");
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static (string, TensorDType, long[], long, long) ParseEntry(JsonProperty property, string name, long dataLength)
    {
        string key = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
            throw new CheckpointFormatException(name, $"tensor '{key}' lacks a valid dtype, shape or data_offsets");
        if (!TensorDTypes.TryParseSafetensors(dtypeElement.GetString()!, out var dtype))
            throw new CheckpointFormatException(name, $"tensor '{key}' has unsupported dtype '{dtypeElement.GetString()}'");

        var shape = new long[shapeElement.GetArrayLength()];
        long elements = 1;
        int d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long n) || n < 0)
                throw new CheckpointFormatException(name, $"tensor '{key}' has an invalid dimension {dim}");
            shape[d++] = n;
            try { elements = checked(elements * n); }
            catch (OverflowException) { throw new CheckpointFormatException(name, $"tensor '{key}' shape overflows"); }
        }
        long begin = ReadOffset(offsetsElement[0], key, name), end = ReadOffset(offsetsElement[1], key, name);
        if (begin > end || end > dataLength)
            throw new CheckpointFormatException(name, $"tensor '{key}' data_offsets [{begin}, {end}] fall outside the {dataLength}-byte data section (truncated file?)");
        long expected;
        try { expected = checked(elements * dtype.ElementSize()); }
        catch (OverflowException) { throw new CheckpointFormatException(name, $"tensor '{key}' shape overflows"); }
        if (end - begin != expected)
            throw new CheckpointFormatException(name, $"tensor '{key}' has {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {expected}");
        return (key, dtype, shape, begin, end);
    }

    private static long ReadOffset(JsonElement element, string key, string name) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out long v) && v >= 0
            ? v : throw new CheckpointFormatException(name, $"tensor '{key}' has an invalid data offset {element}");

    /// <summary>Writes tensors to <paramref name="path"/> atomically (temporary file, then rename), keys sorted.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        string full = System.IO.Path.GetFullPath(path);
        string temp = full + $".tmp-{Environment.ProcessId}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                Write(stream, tensors, metadata);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes tensors in safetensors format to a stream.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var keys = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        WriteHeader(stream, keys.Select(k => (k, tensors[k].DType, tensors[k].Shape)).ToList(), metadata);
        foreach (var key in keys) stream.Write(tensors[key].Bytes);
    }

    /// <summary>Writes only the length field and header for tensors whose data the caller then writes, in the given order.</summary>
    public static void WriteHeader(Stream stream, IReadOnlyList<(string Name, TensorDType DType, long[] Shape)> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape) in entries)
            {
                long length = checked(shape.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize());
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (long dim in shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 so the data section is aligned, as the reference writer does.
        while (headerStream.Length % 8 != 0) headerStream.WriteByte((byte)' ');
        Span<byte> lengthBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)headerStream.Length);
        stream.Write(lengthBytes);
        headerStream.Position = 0;
        headerStream.CopyTo(stream);
    }
}
