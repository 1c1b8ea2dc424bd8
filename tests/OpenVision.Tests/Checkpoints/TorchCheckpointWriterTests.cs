using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using OpenVision.Checkpoints;
using OpenVision.Checkpoints.Zip;
using OpenVision.Tests.Fixtures;

namespace OpenVision.Tests.Checkpoints;

public class TorchCheckpointWriterTests
{
    private static Dictionary<string, TensorData> EveryDType()
    {
        var tensors = new Dictionary<string, TensorData>();
        foreach (var dtype in Enum.GetValues<TensorDType>())
        {
            var bytes = new byte[6 * dtype.ElementSize()];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 7 + (int)dtype);
            if (dtype == TensorDType.Bool) bytes = [1, 0, 0, 1, 1, 0];
            tensors[$"t.{dtype}"] = new TensorData(dtype, [2, 3], bytes);
        }
        tensors["scalar"] = new TensorData(TensorDType.F32, [], BitConverter.GetBytes(2.5f));
        tensors["empty"] = new TensorData(TensorDType.F32, [0, 3], []);
        tensors["big.ints"] = new TensorData(TensorDType.I64, [70000, 1], new byte[70000 * 8]);
        return tensors;
    }

    private static void AssertSame(IReadOnlyDictionary<string, TensorData> expected, IReadOnlyDictionary<string, TensorData> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys); // order kept, as torch.save keeps it
        foreach (var (key, e) in expected)
        {
            Assert.Equal(e.DType, actual[key].DType);
            Assert.Equal(e.Shape, actual[key].Shape);
            Assert.Equal(e.Bytes, actual[key].Bytes);
        }
    }

    [Fact]
    public void RoundTripsEveryDTypeThroughFile()
    {
        using var temp = TestFiles.NewTempFolder();
        var tensors = EveryDType();
        string path = temp.Path("out.pt");
        TorchCheckpointWriter.Write(path, tensors);
        Assert.Equal(CheckpointFormat.TorchZip, StateDictReader.Detect(path));
        AssertSame(tensors, StateDictReader.Read(path));
        Assert.Equal(["out.pt"], Directory.GetFiles(temp.Root).Select(f => Path.GetFileName(f))); // no temp file left
    }

    [Fact]
    public void RoundTripsReferenceCheckpoint()
    {
        var original = TorchCheckpointReader.Read(ReferenceData.Path("models", "ovtest-mini-p8-40", "open_clip_pytorch_model.bin"));
        using var stream = new MemoryStream();
        TorchCheckpointWriter.Write(stream, original);
        stream.Position = 0;
        AssertSame(original, TorchCheckpointReader.Read(stream, "memory"));
    }

    [Fact]
    public void WritesTorchLayoutStoredAndAligned()
    {
        using var stream = new MemoryStream();
        TorchCheckpointWriter.Write(stream, EveryDType(), "weights");
        byte[] file = stream.ToArray();

        using (var zip = new ZipArchive(new MemoryStream(file), ZipArchiveMode.Read))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Equal("weights/data.pkl", names[0]);
            Assert.Equal("weights/version", names[^1]);
            Assert.Contains("weights/byteorder", names);
            Assert.Equal(Enumerable.Range(0, 13).Select(i => $"weights/data/{i}"), names.Where(n => n.Contains("/data/")));
            Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength));
            Assert.Equal("3\n", new StreamReader(zip.GetEntry("weights/version")!.Open()).ReadToEnd());
            Assert.Equal("little", new StreamReader(zip.GetEntry("weights/byteorder")!.Open()).ReadToEnd());
        }

        // Walk the local headers: every record is stored (method 0), its CRC is right and its data is 64-byte aligned.
        int records = 0;
        for (int at = 0; BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at)) == 0x04034b50; records++)
        {
            Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 8)));
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 14));
            int size = BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(at + 18));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 26));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 28));
            int data = at + 30 + nameLength + extraLength;
            Assert.Equal(0, data % 64);
            Assert.Equal(crc, Crc32.Compute(file.AsSpan(data, size)));
            at = data + size;
        }
        Assert.Equal(16, records);
    }

    [Fact]
    public void Crc32MatchesKnownValue()
    {
        // The standard check value of CRC-32/ISO-HDLC, and a long input that exercises the eight-byte loop.
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0x414FA339u, Crc32.Compute(Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog")));
    }

    [Fact]
    public void Zip64DirectoryIsReadable()
    {
        using var stream = new MemoryStream();
        var tensors = EveryDType();
        TorchCheckpointWriter.Write(stream, tensors, "archive", forceZip64: true);
        stream.Position = 0;
        AssertSame(tensors, TorchCheckpointReader.Read(stream, "zip64"));
    }
}
