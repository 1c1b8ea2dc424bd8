using System.Buffers.Binary;
using System.IO.Compression;
using OpenVision.Checkpoints;
using OpenVision.Checkpoints.Zip;

namespace OpenVision.Tests.Checkpoints;

/// <summary>The torch.save reader keeps the zip format's promises: each record's CRC-32 and declared size.</summary>
public class ZipIntegrityTests
{
    private static readonly byte[] Plain = File.ReadAllBytes(TinyCheckpoints.Fixture("plain.pt"));

    private static string Refusal(byte[] archive, string name = "edited.pt")
    {
        var e = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.Read(new MemoryStream(archive), name));
        Assert.StartsWith(name + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Problem;
    }

    private static ZipRecord Storage(byte[] zip) => ZipRecord.Read(zip).First(r => r.Name.EndsWith("/data/0", StringComparison.Ordinal));

    [Fact]
    public void UneditedFixtureLoads() => Assert.NotEmpty(TorchCheckpointReader.Read(new MemoryStream(Plain), "plain.pt"));

    [Fact]
    public void FlippedDataBitFailsTheCrc()
    {
        var bytes = (byte[])Plain.Clone();
        bytes[Storage(bytes).DataOffset + 5] ^= 0x10;
        Assert.Contains("fails its CRC-32 check", Refusal(bytes));
    }

    [Fact]
    public void EditedDirectoryCrcIsRefused()
    {
        var bytes = (byte[])Plain.Clone();
        bytes[Storage(bytes).DirectoryCrcField] ^= 0x01;
        Assert.Contains("fails its CRC-32 check", Refusal(bytes));
    }

    [Theory]
    [InlineData(-4, "is stored but declares")]
    [InlineData(+4, "over the")]
    public void EditedDeclaredSizeIsRefused(int delta, string problem)
    {
        var bytes = (byte[])Plain.Clone();
        var record = Storage(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(record.DirectorySizeField), record.Size + delta);
        Assert.Contains(problem, Refusal(bytes));
    }

    [Fact]
    public void RecordInflatingFarPastItsDeclaredSizeIsRefusedAfterReadingLittle()
    {
        // {"w": 3,840 float32 = 15 KB}, whose storage record really inflates to 1 GiB of zeros; the directory declares
        // 15 KB with the CRC of 15 KB of zeros, so only the size check can catch it.
        const int Declared = 3840 * 4;
        var small = new MemoryStream();
        TorchCheckpointWriter.Write(small, new Dictionary<string, TensorData> { ["w"] = new(TensorDType.F32, [3840], new byte[Declared]) });
        var bomb = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(small.ToArray()), ZipArchiveMode.Read))
        using (var target = new ZipArchive(bomb, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var output = target.CreateEntry(entry.FullName, CompressionLevel.Optimal).Open();
                if (entry.FullName == "archive/data/0")
                {
                    var zeros = new byte[1 << 20];
                    for (int i = 0; i < 1024; i++) output.Write(zeros);
                }
                else
                {
                    using var input = entry.Open();
                    input.CopyTo(output);
                }
            }
        }
        var bytes = bomb.ToArray();
        var record = Storage(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(record.DirectorySizeField), Declared);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(record.DirectoryCrcField), Crc32.Compute(new byte[Declared]));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(record.LocalOffset + 22), Declared);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(record.LocalOffset + 14), Crc32.Compute(new byte[Declared]));

        var counting = new CountingStream(new MemoryStream(bytes));
        var e = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.Read(counting, "bomb.pt"));
        Assert.Contains("holds more than the 15360 bytes its directory entry declares", e.Message);
        // Inflating it all would mean reading every compressed byte of the record; the reader stopped far earlier.
        Assert.True(counting.BytesRead < record.CompressedSize / 4, $"read {counting.BytesRead} bytes of a {record.CompressedSize}-byte compressed record");
    }

    [Fact]
    public void DuplicateRecordNamesAreRefused()
    {
        var stream = new MemoryStream();
        var zip = new StoredZipWriter(stream);
        zip.Add("archive/data.pkl", [0x80, 0x02, 0x7d, 0x2e]); // {}
        zip.Add("archive/data.pkl", [0x80, 0x02, 0x7d, 0x2e]);
        zip.Finish();
        Assert.Contains("two records named 'archive/data.pkl'", Refusal(stream.ToArray()));
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        private int Count(int n) { BytesRead += n; return n; }
    }
}
