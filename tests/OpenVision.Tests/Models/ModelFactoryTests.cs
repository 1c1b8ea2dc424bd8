using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Hub;
using OpenVision.Tests.Hub;
using OpenVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Models;

public sealed class ModelFactoryTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-factory-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void BuiltInNameNeedsWeightsOrRandomInit()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ModelFactory.Load("openvision-vit-tiny-patch16-160"));
        Assert.Contains("hf-hub:UCSC-VLAA/openvision-vit-tiny-patch16-160", e.Message);
        var (model, source) = ModelFactory.Load("openvision-vit-tiny-patch16-160", new ModelLoadOptions { RandomInit = true });
        using (model) Assert.False(source.HasWeights);
    }

    [Fact]
    public void UnknownReferenceIsAClearError()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ModelFactory.Resolve("openvision-vit-tiny-patch16-999"));
        Assert.Contains("openvision-vit-tiny-patch16-", e.Message);
    }

    [Fact]
    public void WrongShapeCheckpointNamesTheTensor()
    {
        File.Copy(ReferenceData.Path("bad", "wrong_shape.safetensors"), Path.Combine(temp, "open_clip_model.safetensors"));
        File.WriteAllText(Path.Combine(temp, "open_clip_config.json"), ConfigJson.ToHubJson(ModelRegistry.Get("openvision-vit-tiny-patch16-160")));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFactory.Load(temp));
        Assert.Contains("visual.proj", e.Message);
        Assert.Equal(Path.Combine(temp, "open_clip_model.safetensors"), e.Path);
    }

    [Fact]
    public void MissingAndUnexpectedTensorsAreReportedByName()
    {
        var weights = SafetensorsFile.Read(Path.Combine(ReferenceModels.Folder("ovtest-mini-p8-40"), "open_clip_model.safetensors"));
        weights.Remove("ln_final.bias");
        weights["visual.ln_pre.weight"] = weights["ln_final.weight"];
        string file = Path.Combine(temp, "open_clip_model.safetensors");
        SafetensorsFile.Write(file, weights);
        File.Copy(Path.Combine(ReferenceModels.Folder("ovtest-mini-p8-40"), "open_clip_config.json"), Path.Combine(temp, "open_clip_config.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFactory.Load(temp));
        Assert.Contains("missing: ln_final.bias", e.Message);
        Assert.Contains("unexpected: visual.ln_pre.weight", e.Message);
        var (model, _) = ModelFactory.Load(temp, new ModelLoadOptions { Strict = false });
        model.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SavedModelReloadsWithIdenticalOutputs(bool pytorchBin)
    {
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder("ovtest-mini-so-p14-46"));
        using (model)
        {
            string folder = Path.Combine(temp, "saved");
            ModelFactory.Save(model, folder, alsoPytorchBin: pytorchBin);
            string reloadFrom = pytorchBin ? Path.Combine(folder, "open_clip_pytorch_model.bin") : folder;
            var (again, source) = ModelFactory.Load(reloadFrom);
            using (again)
            {
                Assert.Equal(pytorchBin ? "open_clip_pytorch_model.bin" : "open_clip_model.safetensors", Path.GetFileName(source.WeightsPath));
                using var scope = NewDisposeScope();
                var pixels = randn(2, 3, 46, 46);
                Assert.True(model.EncodeImage(pixels).allclose(again.EncodeImage(pixels), rtol: 0, atol: 0));
                // What we save is what the reference gave us: the same bytes for every tensor.
                var original = SafetensorsFile.Read(Path.Combine(ReferenceModels.Folder("ovtest-mini-so-p14-46"), "open_clip_model.safetensors"));
                var written = StateDictReader.Read(source.WeightsPath!);
                Assert.Equal(original.Keys.Order(), written.Keys.Order());
                Assert.All(original, kv => Assert.Equal(kv.Value.Bytes, written[kv.Key].Bytes));
            }
        }
    }

    // A real HTTP server on 127.0.0.1 serving the reference Tiny model laid out like a hub repository.
    [Fact]
    public void LoadsFromHubAndThenOffline()
    {
        using var server = new FakeHubServer { RepoId = "UCSC-VLAA/openvision-vit-tiny-patch16-160" };
        var folder = ReferenceModels.Folder("openvision-vit-tiny-patch16-160");
        server.Files["open_clip_config.json"] = File.ReadAllBytes(Path.Combine(folder, "open_clip_config.json"));
        server.Files["open_clip_model.safetensors"] = File.ReadAllBytes(Path.Combine(folder, "open_clip_model.safetensors"));
        server.LfsFiles.Add("open_clip_model.safetensors");
        string cache = Path.Combine(temp, "hub");
        const string reference = "hf-hub:UCSC-VLAA/openvision-vit-tiny-patch16-160";

        using (var client = new HubClient(new HubOptions { Endpoint = server.Endpoint, CacheDirectory = cache }))
        {
            var (model, source) = ModelFactory.Load(reference, hub: client);
            using (model)
            {
                Assert.StartsWith(Path.Combine(cache, "models--UCSC-VLAA--openvision-vit-tiny-patch16-160", "snapshots"), source.WeightsPath);
                ModelParityTests.AssertOutputs(model, ReferenceModels.Expected("openvision-vit-tiny-patch16-160"), "", Tolerance.Float32);
            }
        }
        int requests = server.Requests.Count;
        using (var offline = new HubClient(new HubOptions { Endpoint = server.Endpoint, CacheDirectory = cache, Offline = true }))
        {
            var (model, _) = ModelFactory.Load(reference, hub: offline);
            model.Dispose();
        }
        Assert.Equal(requests, server.Requests.Count);
    }
}
