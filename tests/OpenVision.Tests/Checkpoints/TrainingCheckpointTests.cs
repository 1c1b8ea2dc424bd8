using OpenVision.Checkpoints;

namespace OpenVision.Tests.Checkpoints;

/// <summary>Checkpoints as people have them: open_clip's own epoch_N.pt (weights under "state_dict" with DDP's
/// "module." prefix, next to an AdamW state) and DDP/torch.compile prefixes, all written by PyTorch.</summary>
public class TrainingCheckpointTests
{
    [Theory]
    [InlineData("epoch_1.pt", "module.")]
    [InlineData("compiled_ddp.pt", "_orig_mod.module.")]
    [InlineData("ddp_compiled.pt", "module._orig_mod.")]
    public void WrappedCheckpointGivesTheFeaturesOfThePlainStateDict(string file, string prefix)
    {
        // The reader returns the keys as saved: without the adapter these would not fit the model.
        var raw = StateDictReader.Read(TinyCheckpoints.Fixture(file));
        Assert.All(raw.Keys, k => Assert.StartsWith(prefix, k));

        using var folder = TinyCheckpoints.NewModelFolder();
        File.Copy(TinyCheckpoints.Fixture("plain.pt"), folder.Path("plain.pt"));
        File.Copy(TinyCheckpoints.Fixture(file), folder.Path(file));
        var expected = TinyCheckpoints.LoadFeatures(folder.Path("plain.pt"));
        var actual = TinyCheckpoints.LoadFeatures(folder.Path(file));
        Assert.Equal(expected, actual);
        Assert.All(expected, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void PrefixedSafetensorsLoadToo()
    {
        using var folder = TinyCheckpoints.NewModelFolder();
        var plain = TinyCheckpoints.PlainTensors();
        SafetensorsFile.Write(folder.Path("prefixed.safetensors"), plain.ToDictionary(p => "_orig_mod.module." + p.Key, p => p.Value));
        SafetensorsFile.Write(folder.Path("plain.safetensors"), plain);
        Assert.Equal(TinyCheckpoints.LoadFeatures(folder.Path("plain.safetensors")), TinyCheckpoints.LoadFeatures(folder.Path("prefixed.safetensors")));
    }

    [Fact]
    public void DifferentWeightsGiveDifferentFeatures()
    {
        // Negative control for the equality above: the comparison sees a single changed weight.
        using var folder = TinyCheckpoints.NewModelFolder();
        var plain = TinyCheckpoints.PlainTensors();
        var proj = plain["visual.proj"];
        var changed = (byte[])proj.Bytes.Clone();
        BitConverter.GetBytes(BitConverter.ToSingle(changed) + 0.5f).CopyTo(changed, 0);
        SafetensorsFile.Write(folder.Path("plain.safetensors"), plain);
        SafetensorsFile.Write(folder.Path("changed.safetensors"), new Dictionary<string, TensorData>(plain) { ["visual.proj"] = new(proj.DType, proj.Shape, changed) });
        Assert.NotEqual(TinyCheckpoints.LoadFeatures(folder.Path("plain.safetensors")), TinyCheckpoints.LoadFeatures(folder.Path("changed.safetensors")));
    }

    [Fact]
    public void OptimizerStateIsReadButNotReturnedAsWeights()
    {
        var tensors = StateDictReader.Read(TinyCheckpoints.Fixture("epoch_1.pt"));
        Assert.Equal(TinyCheckpoints.PlainTensors().Keys.Select(k => "module." + k).Order(), tensors.Keys.Order());
    }

    [Fact]
    public void WrapperPrefixesAreStrippedOnlyWhenEveryKeyHasThem()
    {
        var t = new TensorData(TensorDType.F32, [1], new byte[4]);
        var nested = CheckpointAdapter.StripWrapperPrefixes(new Dictionary<string, TensorData> { ["module._orig_mod.a"] = t, ["module._orig_mod.b.c"] = t });
        Assert.Equal(["a", "b.c"], nested.Keys.Order());
        var partial = CheckpointAdapter.StripWrapperPrefixes(new Dictionary<string, TensorData> { ["module.a"] = t, ["_orig_mod.b"] = t });
        Assert.Equal(["_orig_mod.b", "module.a"], partial.Keys.Order());
        // A model whose own first submodule is called "module" keeps its names when not every key carries the prefix.
        var own = CheckpointAdapter.StripWrapperPrefixes(new Dictionary<string, TensorData> { ["module.a"] = t, ["head.b"] = t });
        Assert.Equal(["head.b", "module.a"], own.Keys.Order());
        Assert.Empty(CheckpointAdapter.StripWrapperPrefixes(new Dictionary<string, TensorData>()));
    }
}
