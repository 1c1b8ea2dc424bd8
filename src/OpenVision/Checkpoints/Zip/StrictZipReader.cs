using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace OpenVision.Checkpoints.Zip;

/// <summary>Reads the records of a zip archive keeping every promise the format makes: the directory is consistent
/// with the end record, each local header names the record its directory entry names, and each record inflates to
/// exactly its declared size with its declared CRC-32. Violations fail with <see cref="CheckpointFormatException"/>.</summary>
/// <remarks>System.IO.Compression's reader stops inflating at the declared size without saying so, which let a record
/// that inflates to gigabytes load as its first few kilobytes; here inflation stops one byte past the declared size and
/// that byte is an error. Stored (method 0) and deflate (method 8) records are read, as torch.save and zip tools write.</remarks>
internal sealed class StrictZipReader
{
    private const int EndRecordSize = 22;
    private const long MaxDirectoryBytes = 256L << 20;
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
    private readonly Stream _stream;
    private readonly string _file;
    private readonly long _directoryStart;
    private readonly Dictionary<string, ZipRecordInfo> _records = new(StringComparer.Ordinal);

    /// <summary>Reads the directory of the archive in <paramref name="stream"/> (seekable); <paramref name="file"/> names it in errors.</summary>
    public StrictZipReader(Stream stream, string file)
    {
        _stream = stream;
        _file = file;
        var (count, directoryStart, directorySize) = ReadEndRecords();
        _directoryStart = directoryStart;
        ReadDirectory(count, directoryStart, directorySize);
    }

    /// <summary>The records by name, in no particular order.</summary>
    public IReadOnlyDictionary<string, ZipRecordInfo> Records => _records;

    /// <summary>The inflated bytes of <paramref name="record"/>, refusing more than <paramref name="maxBytes"/>.</summary>
    public byte[] Read(ZipRecordInfo record, long maxBytes)
    {
        string name = record.Name;
        if ((record.Flags & 1) != 0) throw Fail($"zip record '{name}' is encrypted");
        if (record.Method is not (0 or 8)) throw Fail($"zip record '{name}' uses compression method {record.Method}; only stored and deflate are read");
        if (record.Size > maxBytes || record.Size > Array.MaxLength)
            throw Fail($"zip record '{name}' is {record.Size} bytes, over the {Math.Min(maxBytes, Array.MaxLength)}-byte limit");
        if (record.Method == 0 && record.CompressedSize != record.Size)
            throw Fail($"zip record '{name}' is stored but declares {record.CompressedSize} bytes in the file and {record.Size} inflated");
        // Deflate cannot expand more than ~1032:1; a larger claim is a zip bomb or a corrupt directory.
        if (record.Size > 4096 && record.Size / 1100 > record.CompressedSize)
            throw Fail($"zip record '{name}' claims {record.Size} bytes from {record.CompressedSize} compressed");
        long dataStart = LocateData(record);

        var bytes = new byte[record.Size];
        var raw = new BoundedReadStream(_stream, dataStart, record.CompressedSize);
        using (Stream data = record.Method == 0 ? raw : new DeflateStream(raw, CompressionMode.Decompress))
        {
            int read;
            try
            {
                read = data.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
                if (read == bytes.Length && data.ReadByte() >= 0)
                    throw Fail($"zip record '{name}' holds more than the {record.Size} bytes its directory entry declares");
            }
            catch (InvalidDataException e) { throw Fail($"zip record '{name}' is not valid deflate data ({e.Message.ReplaceLineEndings(" ")})"); }
            if (read != bytes.Length) throw Fail($"zip record '{name}' is truncated ({read} of {record.Size} bytes)");
        }
        uint crc = Crc32.Compute(bytes);
        if (crc != record.Crc32)
            throw Fail($"zip record '{name}' fails its CRC-32 check (declared {record.Crc32:x8}, computed {crc:x8}): the file is corrupt");
        return bytes;
    }

    private CheckpointFormatException Fail(string problem) => new(_file, problem);

    // The local header must be where the directory says, name the same record with the same method, and its data must
    // end before the directory starts. Its own sizes and CRC are not used (a data descriptor may hold them instead).
    private long LocateData(ZipRecordInfo record)
    {
        var header = ReadAt(record.LocalHeaderOffset, 30, $"local header of '{record.Name}'");
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != 0x04034b50)
            throw Fail($"zip record '{record.Name}' has no local header at offset {record.LocalHeaderOffset}");
        if (BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(8)) != record.Method)
            throw Fail($"zip record '{record.Name}': local header and directory disagree on the compression method");
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26)), extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
        var localName = ReadAt(record.LocalHeaderOffset + 30, nameLength, $"local header of '{record.Name}'");
        if (!localName.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(record.Name)))
            throw Fail($"zip record '{record.Name}': its local header names a different record");
        long dataStart = record.LocalHeaderOffset + 30 + nameLength + extraLength;
        if (record.CompressedSize > _directoryStart - dataStart)
            throw Fail($"zip record '{record.Name}' ({record.CompressedSize} bytes at offset {dataStart}) runs into the central directory at {_directoryStart}");
        return dataStart;
    }

    private (long Count, long Start, long Size) ReadEndRecords()
    {
        long length = _stream.Length;
        if (length < EndRecordSize) throw Fail($"not a zip archive: {length} bytes, too short for its end record");
        int tailLength = (int)Math.Min(length, EndRecordSize + ushort.MaxValue);
        var tail = ReadAt(length - tailLength, tailLength, "end record");
        int at = -1;
        // The end record is the last one whose comment runs exactly to the end of the file.
        for (int i = tailLength - EndRecordSize; i >= 0 && at < 0; i--)
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == 0x06054b50
                && i + EndRecordSize + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 20)) == tailLength)
                at = i;
        if (at < 0) throw Fail("not a zip archive: no end-of-central-directory record");
        long endRecordOffset = length - tailLength + at;
        var end = tail.AsSpan(at);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);
        long start = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);
        long directoryEnd = endRecordOffset;
        bool zip64 = count == ushort.MaxValue || size == uint.MaxValue || start == uint.MaxValue;
        if (endRecordOffset >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(ReadAt(endRecordOffset - 20, 4, "ZIP64 locator")) == 0x07064b50)
        {
            long recordOffset = BinaryPrimitives.ReadInt64LittleEndian(ReadAt(endRecordOffset - 20 + 8, 8, "ZIP64 locator"));
            if (recordOffset < 0 || recordOffset > endRecordOffset - 20 - 56) throw Fail($"ZIP64 end record offset {recordOffset} is outside the file");
            var record = ReadAt(recordOffset, 56, "ZIP64 end record");
            if (BinaryPrimitives.ReadUInt32LittleEndian(record) != 0x06064b50) throw Fail("ZIP64 locator does not point at a ZIP64 end record");
            count = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(32));
            size = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(40));
            start = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(48));
            directoryEnd = recordOffset;
        }
        else if (zip64) throw Fail("zip end record asks for ZIP64 fields but there is no ZIP64 locator");
        if (count < 0 || size < 0 || start < 0 || start > directoryEnd || size != directoryEnd - start)
            throw Fail($"zip central directory ({size} bytes at offset {start}) does not end where the end record starts ({directoryEnd})");
        if (size > MaxDirectoryBytes || count > size / 46 + (size == 0 ? 0 : 1))
            throw Fail($"zip central directory of {size} bytes cannot hold {count} records");
        return (count, start, size);
    }

    private void ReadDirectory(long count, long start, long size)
    {
        var directory = ReadAt(start, (int)size, "central directory");
        int at = 0;
        for (long i = 0; i < count; i++)
        {
            if (directory.Length - at < 46 || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) != 0x02014b50)
                throw Fail($"zip central directory entry {i} is missing or damaged");
            var entry = directory.AsSpan(at);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[28..]), extraLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[32..]);
            if (directory.Length - at < 46 + nameLength + extraLength + commentLength)
                throw Fail($"zip central directory entry {i} runs past the directory");
            string name;
            try { name = StrictUtf8.GetString(entry.Slice(46, nameLength)); }
            catch (DecoderFallbackException) { throw Fail($"zip central directory entry {i} has a name that is not UTF-8"); }
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]), inflated = BinaryPrimitives.ReadUInt32LittleEndian(entry[24..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(entry[42..]);
            ApplyZip64(entry.Slice(46 + nameLength, extraLength), name, ref inflated, ref compressed, ref offset);
            var record = new ZipRecordInfo(name, BinaryPrimitives.ReadUInt16LittleEndian(entry[8..]), BinaryPrimitives.ReadUInt16LittleEndian(entry[10..]),
                BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]), compressed, inflated, offset);
            // Two records of one name would make the data depend on which one a reader picks.
            if (!_records.TryAdd(name, record)) throw Fail($"zip holds two records named '{name}'");
            at += 46 + nameLength + extraLength + commentLength;
        }
        if (at != directory.Length) throw Fail($"zip central directory has {directory.Length - at} bytes after its {count} entries");
    }

    // The ZIP64 extra field (tag 1) holds, in this order, exactly the fields set to 0xFFFFFFFF in the entry.
    private void ApplyZip64(ReadOnlySpan<byte> extra, string name, ref long inflated, ref long compressed, ref long offset)
    {
        if (inflated != uint.MaxValue && compressed != uint.MaxValue && offset != uint.MaxValue) return;
        while (extra.Length >= 4)
        {
            int tag = BinaryPrimitives.ReadUInt16LittleEndian(extra), length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (length > extra.Length - 4) break;
            if (tag == 1)
            {
                var data = extra.Slice(4, length);
                long Next(ref ReadOnlySpan<byte> d)
                {
                    if (d.Length < 8) throw Fail($"zip record '{name}' has a truncated ZIP64 field");
                    long v = BinaryPrimitives.ReadInt64LittleEndian(d);
                    d = d[8..];
                    return v >= 0 ? v : throw Fail($"zip record '{name}' has a ZIP64 size or offset beyond 2^63");
                }
                if (inflated == uint.MaxValue) inflated = Next(ref data);
                if (compressed == uint.MaxValue) compressed = Next(ref data);
                if (offset == uint.MaxValue) offset = Next(ref data);
                return;
            }
            extra = extra[(4 + length)..];
        }
        throw Fail($"zip record '{name}' needs a ZIP64 field it does not have");
    }

    private byte[] ReadAt(long offset, int count, string what)
    {
        if (offset < 0 || count < 0 || offset > _stream.Length - count) throw Fail($"zip {what} lies outside the {_stream.Length}-byte file");
        var bytes = new byte[count];
        _stream.Position = offset;
        _stream.ReadExactly(bytes);
        return bytes;
    }
}
