namespace OpenVision.Checkpoints.Zip;

/// <summary>One record of a zip archive as its central directory describes it (ZIP64 fields already applied).</summary>
/// <param name="Name">The record's path inside the archive.</param>
/// <param name="Flags">General-purpose bit flags (bit 0: encrypted).</param>
/// <param name="Method">Compression method: 0 stored, 8 deflate.</param>
/// <param name="Crc32">CRC-32 of the uncompressed bytes.</param>
/// <param name="CompressedSize">Bytes the record occupies in the file.</param>
/// <param name="Size">Bytes it holds once inflated.</param>
/// <param name="LocalHeaderOffset">Where its local header starts.</param>
internal sealed record ZipRecordInfo(string Name, ushort Flags, ushort Method, uint Crc32, long CompressedSize, long Size, long LocalHeaderOffset);
