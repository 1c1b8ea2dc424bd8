using OpenVision.Backends;
using OpenVision.Onnx.Selection;
using OpenVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Tests.Selection;

/// <summary><see cref="FastestBackend"/>: each batch size goes where the (cached or measured) choice says, features stay
/// the TorchSharp model's, and the choice is measured once per machine, model and resolution.</summary>
public class FastestBackendTests
{
    private const string Name = "ovtest-mini-so-p14-46";

    private static FastestBackend Open(BackendChoiceCache cache, bool remeasure = false) =>
        FastestBackend.Create(TorchSharpBackend.Load(ReferenceModels.Folder(Name)), OnnxBackend.Load(Exports.Reference(Name).Folder), cache, remeasure);

    private static BackendChoice Choice(params (int Batch, double Torch, double Onnx)[] rates) =>
        new(Name, 46, BackendChoiceMeasurement.CpuIdentity(), FastestBackend.Candidates, rates.Select(r => new BackendRate(r.Batch, [r.Torch, r.Onnx])).ToList(), 0.5, DateTime.UtcNow);

    [Fact]
    public void EachBatchSizeGoesWhereTheCachedChoiceSays()
    {
        var cache = new BackendChoiceCache(Exports.TempFolder("choice"));
        cache.Save(Choice((1, 10, 20), (8, 30, 20)));   // onnx faster at 1, torch at 8
        using var fastest = Open(cache);
        Assert.True(fastest.ChoiceFromCache);
        Assert.IsType<OnnxBackend>(fastest.BackendFor(1));
        Assert.IsType<OnnxBackend>(fastest.BackendFor(2));       // nearer 1 than 8 on a log scale
        Assert.IsType<TorchSharpBackend>(fastest.BackendFor(3));
        Assert.IsType<TorchSharpBackend>(fastest.BackendFor(64));

        using var torchBackend = TorchSharpBackend.Load(ReferenceModels.Folder(Name));
        foreach (int batch in new[] { 1, 5 })
        {
            using var pixels = randn(batch, 3, 46, 46, generator: new Generator((ulong)batch));
            using var features = fastest.EncodeImage(pixels, normalize: true);
            using var expected = torchBackend.EncodeImage(pixels, normalize: true);
            Assert.True(Tolerance.RelativeError(features, expected) <= Tolerance.Float32, $"batch {batch}");
        }
    }

    [Fact]
    public void TorchWinningEverywhereNeverRoutesToOnnx()
    {
        // Negative control of the routing test: the same backends with the other choice.
        var cache = new BackendChoiceCache(Exports.TempFolder("choice"));
        cache.Save(Choice((1, 20, 10), (8, 30, 20)));
        using var fastest = Open(cache);
        Assert.All(new[] { 1, 2, 8, 100 }, b => Assert.IsType<TorchSharpBackend>(fastest.BackendFor(b)));
    }

    [Fact]
    public void AMissingChoiceIsMeasuredOnceAndCached()
    {
        var cache = new BackendChoiceCache(Exports.TempFolder("choice"));
        using (var first = Open(cache))
        {
            Assert.False(first.ChoiceFromCache);
            Assert.Equal([1, 8, 32], first.Choice.Rates.Select(r => r.BatchSize));
            Assert.All(first.Choice.Rates, r => Assert.True(r.ImagesPerSecond.Count == 2 && r.ImagesPerSecond.All(x => x > 0)));
        }
        Assert.Single(Directory.GetFiles(cache.Folder, "backend-*.json"));
        using var second = Open(cache);
        Assert.True(second.ChoiceFromCache);
        using var third = Open(cache, remeasure: true);
        Assert.False(third.ChoiceFromCache);
    }

    [Fact]
    public void ACachedChoiceOfAnotherCpuOrModelIsNotUsed()
    {
        var cache = new BackendChoiceCache(Exports.TempFolder("choice"));
        cache.Save(Choice((1, 10, 20)) with { Cpu = "another cpu x64" });
        Assert.Null(cache.Load(Name, 46, BackendChoiceMeasurement.CpuIdentity(), FastestBackend.Candidates));
        Assert.NotNull(cache.Load(Name, 46, "another cpu x64", FastestBackend.Candidates));
        Assert.Null(cache.Load(Name, 64, "another cpu x64", FastestBackend.Candidates));
    }

    [Fact]
    public void ACorruptCacheFileIsNamed()
    {
        var cache = new BackendChoiceCache(Exports.TempFolder("choice"));
        string path = cache.PathFor(Name, 46, BackendChoiceMeasurement.CpuIdentity(), FastestBackend.Candidates);
        File.WriteAllText(path, "{ not json");
        var error = Assert.Throws<InvalidDataException>(() => cache.Load(Name, 46, BackendChoiceMeasurement.CpuIdentity(), FastestBackend.Candidates));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void BackendsOfDifferentModelsAreRefused()
    {
        var cache = new BackendChoiceCache(Exports.TempFolder("choice"));
        var error = Assert.Throws<ArgumentException>(() => FastestBackend.Create(
            TorchSharpBackend.Load(ReferenceModels.Folder("ovtest-mini-p8-40")), OnnxBackend.Load(Exports.Reference(Name).Folder), cache));
        Assert.Contains("different models", error.Message);
    }
}
