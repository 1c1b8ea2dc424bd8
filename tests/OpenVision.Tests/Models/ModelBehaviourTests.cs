using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Layers;
using OpenVision.Models;
using OpenVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Models;

public class ModelBehaviourTests
{
    private static OpenVisionModel LoadReference(string name)
    {
        var config = ConfigJson.Load(System.IO.Path.Combine(ReferenceModels.Folder(name), "open_clip_config.json"), name);
        var model = new OpenVisionModel(config);
        StateDictLoader.Load(model, SafetensorsFile.Read(System.IO.Path.Combine(ReferenceModels.Folder(name), "open_clip_model.safetensors")), name);
        model.eval();
        return model;
    }

    // The stored table of a released-style checkpoint is the 2-D sin-cos table; our float32 recomputation must
    // reproduce it to float32 round-off, or other resolutions would silently use a different layout.
    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void SinCosTableEqualsCheckpointTable(string name)
    {
        var weights = SafetensorsFile.Read(System.IO.Path.Combine(ReferenceModels.Folder(name), "open_clip_model.safetensors"));
        using var stored = weights["visual.positional_embedding"].ToTorch();
        int width = (int)stored.shape[1], grid = (int)Math.Round(Math.Sqrt(stored.shape[0] - 1));
        using var ours = SinCosPositionalEmbedding.Create(grid, width);
        using var diff = (ours - stored).abs().max();
        Assert.True(diff.item<float>() <= 2e-6f, $"max difference {diff.item<float>()}");
    }

    [Fact]
    public void OtherResolutionUsesRecomputedTable()
    {
        using var model = LoadReference("ovtest-mini-p16-64");       // native 64 px → 4×4 grid
        using var scope = NewDisposeScope();
        var pixels = randn(2, 3, 96, 96, generator: new Generator(1));
        using var encoding = model.EncodeImageDetailed(pixels);
        Assert.Equal(new long[] { 2, 36, 64 }, encoding.Tokens.shape); // 96/16 = 6 → 36 patches
        Assert.Equal(new long[] { 2, 32 }, encoding.Features.shape);
        Assert.True(encoding.Features.isfinite().all().item<bool>());
        // The native size still uses the stored table: identical to running without any override.
        var native = randn(1, 3, 64, 64, generator: new Generator(2));
        Assert.True(model.EncodeImage(native).allclose(model.EncodeImage(native), rtol: 0, atol: 0));
    }

    [Fact]
    public void NormalizedFeaturesHaveUnitLength()
    {
        using var model = LoadReference("ovtest-mini-p8-40");
        using var scope = NewDisposeScope();
        var features = model.EncodeImage(randn(3, 3, 40, 40), normalize: true);
        Assert.True(features.norm(1).sub(1).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void LayerIndicesAreCheckedAndNegativeOnesResolve()
    {
        using var model = LoadReference("ovtest-mini-so-p14-46");   // 3 blocks
        Assert.Equal(1, model.ResolveLayer(-2));
        Assert.Equal(2, model.ResolveLayer(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ResolveLayer(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ResolveLayer(-4));
    }

    [Fact]
    public void WrongInputShapesAreClearErrors()
    {
        using var model = LoadReference("ovtest-mini-p8-40");
        using var scope = NewDisposeScope();
        Assert.Contains("[B, 3, H, W]", Assert.Throws<ArgumentException>(() => model.EncodeImage(randn(3, 40, 40))).Message);
        Assert.Contains("[B, 80]", Assert.Throws<ArgumentException>(() => model.EncodeText(zeros(2, 77, dtype: ScalarType.Int64))).Message);
    }

    // 10,000 inference calls must not leave live tensors behind.
    [Fact]
    public void NoTensorLeaksOverTenThousandCalls()
    {
        using var model = LoadReference("ovtest-mini-p8-40");
        using var pixels = randn(1, 3, 40, 40);
        using var ids = zeros(1, 80, dtype: ScalarType.Int64);
        void Call()
        {
            using var image = model.EncodeImage(pixels, normalize: true);
            using var text = model.EncodeText(ids);
            using var logits = model.Logits(image, text);
            using var detailed = model.EncodeImageDetailed(pixels, layers: [-2]);
        }
        for (int i = 0; i < 100; i++) Call();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 10_000; i++) Call();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"{after - before} tensors leaked over 10,000 calls");
    }
}
