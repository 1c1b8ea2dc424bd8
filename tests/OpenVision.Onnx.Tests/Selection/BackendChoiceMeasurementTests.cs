using OpenVision.Backends;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Onnx.Selection;
using OpenVision.Tests.Parity;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Tests.Selection;

/// <summary><see cref="BackendChoiceMeasurement"/> with a path far slower than the others (as bf16 is where the CPU has
/// no bf16 arithmetic): it is dropped after two calls instead of being timed at every batch size, and the choice never
/// picks it; a path slow by less than the rule's margin is timed in full.</summary>
public class BackendChoiceMeasurementTests
{
    private const string Name = "ovtest-mini-so-p14-46";

    [Fact]
    public void APathFarSlowerThanTheFastestIsDroppedAfterTwoCalls()
    {
        using var fast = TorchSharpBackend.Load(ReferenceModels.Folder(Name));
        using var slow = new DelayedBackend(TorchSharpBackend.Load(ReferenceModels.Folder(Name)), TimeSpan.FromSeconds(1.2));
        var choice = BackendChoiceMeasurement.Measure([("fast", fast), ("slow", slow)], [1, 4]);

        Assert.Equal(2, slow.Calls); // the first call and the one that confirms it, at batch 1 only
        Assert.InRange(choice.Rates[0].ImagesPerSecond[1], 0.1, 1 / 1.2);
        Assert.True(double.IsNaN(choice.Rates[1].ImagesPerSecond[1]));
        Assert.All(choice.Rates, r => Assert.True(r.ImagesPerSecond[0] > 0));
        Assert.Equal("fast", choice.FastestOverall());
        Assert.All(choice.Rates, r => Assert.Equal(0, r.Fastest));
        Assert.Contains("batch 4 fast ", choice.Describe());
        Assert.Contains("slow not timed (too slow)", choice.Describe());

        // The cache keeps the NaN, and the choice read back still never picks the dropped path.
        var cache = new BackendChoiceCache(Exports.TempFolder("choice"));
        cache.Save(choice);
        var loaded = cache.Load(choice.Model, choice.ImageSize, choice.Cpu, choice.Candidates);
        Assert.NotNull(loaded);
        Assert.True(double.IsNaN(loaded.Rates[1].ImagesPerSecond[1]));
        Assert.Equal("fast", loaded.FastestOverall());
    }

    [Fact]
    public void APathUnderTheSlowCallFloorIsTimedInFull()
    {
        // Negative control: many times slower than the fast path, but each call under SlowCallSeconds.
        using var fast = TorchSharpBackend.Load(ReferenceModels.Folder(Name));
        using var slow = new DelayedBackend(TorchSharpBackend.Load(ReferenceModels.Folder(Name)), TimeSpan.FromSeconds(0.1));
        var choice = BackendChoiceMeasurement.Measure([("fast", fast), ("slow", slow)], [1, 4], TimeSpan.FromSeconds(0.5));

        Assert.All(choice.Rates, r => Assert.InRange(r.ImagesPerSecond[1], 0.5 * r.BatchSize, r.BatchSize / 0.1));
        Assert.True(slow.Calls >= 2 * 6, $"{slow.Calls} calls"); // per batch size: first call, warm-up, two blocks of settle + 2
        Assert.Equal("fast", choice.FastestOverall());
    }

    // A real backend whose image calls take `delay` longer: the measurement's view of a slow path.
    private sealed class DelayedBackend(IEncoderBackend inner, TimeSpan delay) : IEncoderBackend
    {
        public int Calls { get; private set; }
        public ModelConfig Config => inner.Config;
        public ModelSource Source => inner.Source;
        public int ImageSize => inner.ImageSize;
        public double LogitScale => inner.LogitScale;
        public bool HasTextTower => inner.HasTextTower;
        public DetailedImageOutputs DetailedOutputs => inner.DetailedOutputs;
        public ScalarType PixelDType => inner.PixelDType;
        public string? FeatureIdentity => inner.FeatureIdentity;

        public Tensor EncodeImage(Tensor pixels, bool normalize)
        {
            Calls++;
            Thread.Sleep(delay);
            return inner.EncodeImage(pixels, normalize);
        }

        public Tensor EncodeText(Tensor tokenIds, bool normalize) => inner.EncodeText(tokenIds, normalize);
        public ImageEncoding EncodeImageDetailed(Tensor pixels, IReadOnlyList<int> layers, bool normalize) => inner.EncodeImageDetailed(pixels, layers, normalize);
        public int ResolveLayer(int layer) => inner.ResolveLayer(layer);
        public void Dispose() => inner.Dispose();
    }
}
