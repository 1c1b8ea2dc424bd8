using System.IO.Compression;
using System.Runtime.InteropServices;
using OpenVision.Checkpoints;
using OpenVision.Tests.Fixtures;

namespace OpenVision.Tests.Checkpoints;

public class TorchCheckpointReaderTests
{
    private static string Fixture(string name) => TestFiles.Fixture("checkpoints", name);

    private static T[] Values<T>(TensorData t) where T : struct => MemoryMarshal.Cast<byte, T>(t.Bytes).ToArray();

    [Theory]
    [InlineData("ovtest-mini-p16-64")]
    [InlineData("ovtest-mini-p8-40")]
    [InlineData("ovtest-mini-so-p14-46")]
    public void ReferenceBinEqualsItsSafetensorsTensorForTensor(string model)
    {
        var fromBin = TorchCheckpointReader.Read(ReferenceData.Path("models", model, "open_clip_pytorch_model.bin"));
        var fromSafetensors = SafetensorsFile.Read(ReferenceData.Path("models", model, "open_clip_model.safetensors"));
        Assert.Equal(fromSafetensors.Keys.Order(), fromBin.Keys.Order());
        foreach (var (key, expected) in fromSafetensors)
        {
            var actual = fromBin[key];
            Assert.Equal(expected.DType, actual.DType);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.True(expected.Bytes.AsSpan().SequenceEqual(actual.Bytes), $"{model}: '{key}' differs");
        }
    }

    [Fact]
    public void ReadsEveryStorageDType()
    {
        var t = TorchCheckpointReader.Read(Fixture("dtypes.pt"));
        Assert.Equal(TensorDType.F16, t["f16"].DType);
        Assert.Equal(new long[] { 2, 3 }, t["f16"].Shape);
        Assert.Equal([0, 0.5f, 1, 1.5f, 2, 2.5f], Values<Half>(t["f16"]).Select(h => (float)h));
        Assert.Equal(TensorDType.BF16, t["bf16"].DType);
        Assert.Equal(new long[] { 3, 2 }, t["bf16"].Shape);
        // bfloat16 is the upper half of a float32.
        Assert.Equal([-2f, -1, 0, 1, 2, 3], Values<ushort>(t["bf16"]).Select(b => BitConverter.Int32BitsToSingle(b << 16)));
        Assert.Equal([0, 0.25f, 0.5f, 0.75f], Values<float>(t["f32"]));
        Assert.Equal([-1.5, -0.5, 0.5], Values<double>(t["f64"]));
        Assert.Equal(new sbyte[] { -2, -1, 0, 1, 2 }, Values<sbyte>(t["i8"]));
        Assert.Equal(new short[] { 0, -300, -600, -900 }, Values<short>(t["i16"]));
        Assert.Equal([0, 100000, 200000, 300000], Values<int>(t["i32"]));
        Assert.Equal([0, 1L << 40, 1L << 41], Values<long>(t["i64"]));
        Assert.Equal(new byte[] { 250, 251, 252, 253 }, t["u8"].Bytes);
        Assert.Equal(TensorDType.Bool, t["bool"].DType);
        Assert.Equal(new byte[] { 1, 0, 1 }, t["bool"].Bytes);
        Assert.Empty(t["scalar"].Shape);
        Assert.Equal(2.5f, Values<float>(t["scalar"])[0]);
        Assert.Equal(new long[] { 0, 3 }, t["empty"].Shape);
        Assert.Empty(t["empty"].Bytes);
    }

    [Fact]
    public void MaterializesViewsOffsetsAndSharedStorages()
    {
        // Every tensor views arange(24).reshape(4, 6): element (r, c) is 6r + c.
        var t = TorchCheckpointReader.Read(Fixture("views.pt"));
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (float)i), Values<float>(t["base"]));
        Assert.Equal(new long[] { 6, 4 }, t["transposed"].Shape);
        Assert.Equal(from i in Enumerable.Range(0, 6) from j in Enumerable.Range(0, 4) select (float)(6 * j + i), Values<float>(t["transposed"]));
        Assert.Equal(Enumerable.Range(6, 12).Select(i => (float)i), Values<float>(t["row_slice"]));
        Assert.Equal(from r in Enumerable.Range(0, 4) from c in Enumerable.Range(2, 3) select (float)(6 * r + c), Values<float>(t["col_slice"]));
        Assert.Equal([0f, 3, 12, 15], Values<float>(t["stepped"]));
        Assert.Empty(t["element"].Shape);
        Assert.Equal([23f], Values<float>(t["element"]));
        Assert.Equal([0f, 1, 2, 0, 1, 2], Values<float>(t["broadcast"]));
    }

    [Fact]
    public void UnwrapsTrainingCheckpointAndAdapterStripsModulePrefix()
    {
        var raw = TorchCheckpointReader.Read(Fixture("training.pt"));
        Assert.Equal(["module.weight", "module.bias"], raw.Keys);
        var t = CheckpointAdapter.StripPrefix(raw);
        Assert.Equal([0f, 1, 2, 3, 4, 5], Values<float>(t["weight"]));
        Assert.Equal(new long[] { 2, 3 }, t["weight"].Shape);
        Assert.Equal([10f, 20], Values<float>(t["bias"]));
    }

    [Fact]
    public void ReadsProtocol4StateDictWithMetadataAndParameter()
    {
        var t = TorchCheckpointReader.Read(Fixture("protocol4.pt"));
        Assert.Equal(["weight", "bias", "param"], t.Keys);
        Assert.Equal([0f, 1, 2, 3], Values<float>(t["param"]));
        Assert.Equal([10f, 20], Values<float>(t["bias"]));
    }

    [Fact]
    public void UnwrapsModelContainer()
    {
        var t = TorchCheckpointReader.Read(Fixture("model_key.pt"));
        Assert.Equal(["weight", "bias"], t.Keys);
        Assert.Equal([10f, 20], Values<float>(t["bias"]));
    }

    [Fact]
    public void RefusesTorchScriptArchive()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(Fixture("torchscript.pt")));
        Assert.Contains("TorchScript", e.Message);
        Assert.Contains("torchscript.pt", e.Message);
    }

    [Fact]
    public void RefusesLegacyFormatWithClearMessage()
    {
        string path = Fixture("legacy.pt");
        Assert.Equal(CheckpointFormat.LegacyPickle, StateDictReader.Detect(path));
        var e = Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(path));
        Assert.Contains("legacy.pt", e.Message);
        Assert.Contains("legacy", e.Problem);
        // Handed to the zip reader directly, it is still a clean format error.
        Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.Read(path));
    }

    [Fact]
    public void RefusesBigEndianArchive()
    {
        using var temp = TestFiles.NewTempFolder();
        string path = temp.Path("big.pt");
        RewriteRecord(Fixture("dtypes.pt"), path, "dtypes/byteorder", "big"u8.ToArray());
        var e = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.Read(path));
        Assert.Contains("big-endian", e.Message);
        Assert.Contains("big.pt", e.Message);
    }

    [Fact]
    public void RefusesStorageShorterThanItsTensors()
    {
        using var temp = TestFiles.NewTempFolder();
        string path = temp.Path("short.pt");
        RewriteRecord(Fixture("views.pt"), path, "views/data/0", new byte[40]);
        var e = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.Read(path));
        Assert.Contains("storage '0'", e.Message);
    }

    [Fact]
    public void RefusesArchiveWithoutPickleAndTruncatedArchive()
    {
        using var temp = TestFiles.NewTempFolder();
        string noPickle = temp.Path("nopickle.pt");
        using (var zip = ZipFile.Open(noPickle, ZipArchiveMode.Create)) zip.CreateEntry("archive/version");
        Assert.Contains("data.pkl", Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(noPickle)).Message);

        string truncated = temp.Path("truncated.pt");
        var bytes = File.ReadAllBytes(Fixture("views.pt"));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated.pt", Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(truncated)).Message);
    }

    /// <summary>Copies a zip, replacing (or adding) one record.</summary>
    internal static void RewriteRecord(string source, string target, string record, byte[] content)
    {
        File.Copy(source, target);
        using var zip = ZipFile.Open(target, ZipArchiveMode.Update);
        zip.GetEntry(record)?.Delete();
        using var stream = zip.CreateEntry(record, CompressionLevel.NoCompression).Open();
        stream.Write(content);
    }
}
