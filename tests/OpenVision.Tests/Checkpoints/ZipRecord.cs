using System.Buffers.Binary;
using System.Text;

namespace OpenVision.Tests.Checkpoints;

/// <summary>Where each record of a (non-ZIP64) zip file sits, read from its central directory, so that tests can edit
/// sizes, CRCs and data in place.</summary>
internal sealed record ZipRecord(string Name, int DirectoryOffset, int LocalOffset, int DataOffset, int CompressedSize, int Size, uint Crc)
{
    /// <summary>Offset of the CRC-32 field in the central directory entry.</summary>
    public int DirectoryCrcField => DirectoryOffset + 16;

    /// <summary>Offset of the compressed-size field in the central directory entry.</summary>
    public int DirectoryCompressedSizeField => DirectoryOffset + 20;

    /// <summary>Offset of the uncompressed-size field in the central directory entry.</summary>
    public int DirectorySizeField => DirectoryOffset + 24;

    /// <summary>Every record of <paramref name="zip"/>, in directory order.</summary>
    public static List<ZipRecord> Read(byte[] zip)
    {
        int end = zip.Length - 22;
        while (end >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end)) != 0x06054b50) end--;
        if (end < 0) throw new InvalidDataException("no end-of-central-directory record");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(end + 10));
        int at = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        var records = new List<ZipRecord>();
        for (int i = 0; i < count; i++)
        {
            var d = zip.AsSpan(at);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]), extra = BinaryPrimitives.ReadUInt16LittleEndian(d[30..]);
            int comment = BinaryPrimitives.ReadUInt16LittleEndian(d[32..]);
            int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(d[42..]);
            var l = zip.AsSpan(local);
            int dataOffset = local + 30 + BinaryPrimitives.ReadUInt16LittleEndian(l[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(l[28..]);
            records.Add(new ZipRecord(Encoding.UTF8.GetString(d.Slice(46, nameLength)), at, local, dataOffset,
                (int)BinaryPrimitives.ReadUInt32LittleEndian(d[20..]), (int)BinaryPrimitives.ReadUInt32LittleEndian(d[24..]),
                BinaryPrimitives.ReadUInt32LittleEndian(d[16..])));
            at += 46 + nameLength + extra + comment;
        }
        return records;
    }
}
