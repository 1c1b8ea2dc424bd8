using OpenVision.Checkpoints;
using OpenVision.Tests.Fixtures;

namespace OpenVision.Tests.Checkpoints;

public class StateDictReaderTests
{
    [Fact]
    public void DispatchesOnContentNotExtension()
    {
        using var temp = TestFiles.NewTempFolder();
        string model = ReferenceData.Path("models", "ovtest-mini-p16-64");
        // Swap the extensions: the zip is named .safetensors and the safetensors file .bin.
        string zipNamedSafetensors = temp.Path("weights.safetensors"), safetensorsNamedBin = temp.Path("weights.bin");
        File.Copy(Path.Combine(model, "open_clip_pytorch_model.bin"), zipNamedSafetensors);
        File.Copy(Path.Combine(model, "open_clip_model.safetensors"), safetensorsNamedBin);
        Assert.Equal(CheckpointFormat.TorchZip, StateDictReader.Detect(zipNamedSafetensors));
        Assert.Equal(CheckpointFormat.Safetensors, StateDictReader.Detect(safetensorsNamedBin));
        var a = StateDictReader.Read(zipNamedSafetensors);
        var b = StateDictReader.Read(safetensorsNamedBin);
        Assert.Equal(b.Keys.Order(), a.Keys.Order());
        Assert.All(b, p => Assert.Equal(p.Value.Bytes, a[p.Key].Bytes));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0, 0 }, 100, CheckpointFormat.TorchZip)]
    [InlineData(new byte[] { 0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9 }, 100, CheckpointFormat.LegacyPickle)]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'{' }, 10, CheckpointFormat.Safetensors)]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', 0, 0, 0, 0 }, 9, CheckpointFormat.Unknown)]
    [InlineData(new byte[] { }, 0, CheckpointFormat.Unknown)]
    public void DetectsFormatFromFirstBytes(byte[] head, long length, CheckpointFormat expected)
    {
        Assert.Equal(expected, StateDictReader.Detect(head, length));
    }

    [Fact]
    public void UnknownAndMissingFilesNameThePath()
    {
        using var temp = TestFiles.NewTempFolder();
        string text = temp.Path("notes.pt");
        File.WriteAllText(text, "these are not weights at all");
        var unknown = Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(text));
        Assert.Contains("notes.pt", unknown.Message);
        Assert.Contains("unknown format", unknown.Message);
        var missing = Assert.Throws<CheckpointFormatException>(() => StateDictReader.Read(temp.Path("absent.bin")));
        Assert.Contains("absent.bin", missing.Message);
    }

    [Fact]
    public void AdapterStripsPrefixOnlyWhenEveryKeyHasIt()
    {
        var t = new TensorData(TensorDType.U8, [1], [7]);
        var all = CheckpointAdapter.StripPrefix(new Dictionary<string, TensorData> { ["module.a"] = t, ["module.b.c"] = t });
        Assert.Equal(["a", "b.c"], all.Keys);
        var some = CheckpointAdapter.StripPrefix(new Dictionary<string, TensorData> { ["module.a"] = t, ["b"] = t });
        Assert.Equal(["module.a", "b"], some.Keys);
        Assert.Same(t, all["a"]);
    }
}
