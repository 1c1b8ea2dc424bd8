using System.Buffers.Binary;
using System.Text;

namespace OpenVision.Checkpoints.Zip;

/// <summary>Writes an uncompressed zip the way PyTorch's own writer does: every record stored, its data aligned to
/// 64 bytes by padding the local header's extra field, so the archive can be memory-mapped (torch.load(mmap=True)).</summary>
/// <remarks>Records are at most 2 GB (one byte array), so only offsets can need ZIP64; the ZIP64 end-of-directory
/// records are added when the archive passes 4 GB or 65,535 records.</remarks>
internal sealed class StoredZipWriter
{
    private const int Alignment = 64;
    private const ushort PaddingTag = 0x4246; // "FB", the tag PyTorch's writer uses for its padding field
    private const ushort DosDate = (0 << 9) | (1 << 5) | 1; // 1980-01-01: fixed, so output is deterministic
    private readonly Stream _stream;
    private readonly bool _forceZip64;
    private readonly List<(byte[] Name, uint Crc, uint Size, long Offset)> _records = [];
    private long _position;

    /// <summary>Writes to <paramref name="stream"/> from its current position; it need not be seekable.
    /// <paramref name="forceZip64"/> emits ZIP64 directory fields even for a small archive, for tests only: PyTorch's
    /// miniz rejects a 0xFFFFFFFF offset in an archive smaller than 4 GB (real ZIP64 archives load fine).</summary>
    public StoredZipWriter(Stream stream, bool forceZip64 = false)
    {
        _stream = stream;
        _forceZip64 = forceZip64;
    }

    /// <summary>Adds one stored record.</summary>
    public void Add(string name, ReadOnlySpan<byte> data)
    {
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        uint crc = Crc32.Compute(data);
        long offset = _position;
        // Data starts after the 30-byte header, the name and the extra field (4-byte tag+length, then padding).
        int padding = (int)((Alignment - (offset + 30 + nameBytes.Length + 4) % Alignment) % Alignment);
        Span<byte> header = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 20);      // version needed: 2.0
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);       // flags
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], 0);       // method: stored
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], 0);      // time
        BinaryPrimitives.WriteUInt16LittleEndian(header[12..], DosDate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[14..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[18..], (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[22..], (uint)data.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)(4 + padding));
        Write(header);
        Write(nameBytes);
        Span<byte> extra = stackalloc byte[4 + Alignment];
        extra.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(extra, PaddingTag);
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)padding);
        extra[4..].Fill((byte)'Z');
        Write(extra[..(4 + padding)]);
        Write(data);
        _records.Add((nameBytes, crc, (uint)data.Length, offset));
    }

    /// <summary>Writes the central directory and end records; the writer is unusable afterwards.</summary>
    public void Finish()
    {
        long directoryStart = _position;
        Span<byte> entry = stackalloc byte[46];
        Span<byte> extra = stackalloc byte[12];
        foreach (var (name, crc, size, offset) in _records)
        {
            bool zip64 = _forceZip64 || offset >= uint.MaxValue;
            entry.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(entry, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[4..], 45);               // made by: spec 4.5, MS-DOS attributes
            BinaryPrimitives.WriteUInt16LittleEndian(entry[6..], (ushort)(zip64 ? 45 : 20));
            BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[10..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[12..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[14..], DosDate);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], size);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[24..], size);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[28..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[30..], (ushort)(zip64 ? 12 : 0));
            // comment length, disk number, internal and external attributes stay zero
            BinaryPrimitives.WriteUInt32LittleEndian(entry[42..], zip64 ? uint.MaxValue : (uint)offset);
            Write(entry);
            Write(name);
            if (zip64)
            {
                // The ZIP64 extra holds only the fields marked 0xFFFFFFFF above: here the header offset.
                BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
                BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 8);
                BinaryPrimitives.WriteInt64LittleEndian(extra[4..], offset);
                Write(extra);
            }
        }
        long directorySize = _position - directoryStart;
        bool zip64End = _forceZip64 || _records.Count >= ushort.MaxValue || directoryStart >= uint.MaxValue || directorySize >= uint.MaxValue;
        if (zip64End) WriteZip64End(directoryStart, directorySize);

        Span<byte> end = stackalloc byte[22];
        end.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], zip64End ? ushort.MaxValue : (ushort)_records.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], zip64End ? ushort.MaxValue : (ushort)_records.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], zip64End ? uint.MaxValue : (uint)directorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], zip64End ? uint.MaxValue : (uint)directoryStart);
        Write(end);
        _stream.Flush();
    }

    private void WriteZip64End(long directoryStart, long directorySize)
    {
        long recordStart = _position;
        Span<byte> record = stackalloc byte[56];
        record.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(record, 0x06064b50);
        BinaryPrimitives.WriteInt64LittleEndian(record[4..], 56 - 12);   // size of the rest of the record
        BinaryPrimitives.WriteUInt16LittleEndian(record[12..], 45);
        BinaryPrimitives.WriteUInt16LittleEndian(record[14..], 45);
        BinaryPrimitives.WriteInt64LittleEndian(record[24..], _records.Count);
        BinaryPrimitives.WriteInt64LittleEndian(record[32..], _records.Count);
        BinaryPrimitives.WriteInt64LittleEndian(record[40..], directorySize);
        BinaryPrimitives.WriteInt64LittleEndian(record[48..], directoryStart);
        Write(record);
        Span<byte> locator = stackalloc byte[20];
        locator.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064b50);
        BinaryPrimitives.WriteInt64LittleEndian(locator[8..], recordStart);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);      // total number of disks
        Write(locator);
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _stream.Write(bytes);
        _position += bytes.Length;
    }
}
