using OpenVision.Configs;
using OpenVision.Layers;
using OpenVision.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The bfloat16 kernels a model runs (patch embedding, linear maps, projections) at every reference model's
/// shapes, element by element against float64 on the same rounded inputs, within the dot-product bound of
/// <see cref="BFloat16Bounds.Dot"/>. Which kernel runs depends on the CPU (oneDNN picks one per instruction set, and
/// libtorch skips oneDNN where the CPU lacks AVX-512): this is the check that whichever runs is correct.</summary>
public class BFloat16KernelTests(ITestOutputHelper output)
{
    private static readonly ScalarType BF16 = ScalarType.BFloat16, F64 = ScalarType.Float64;

    // Positive data makes Σ|a||b| equal |Σab|, so a missing term or a bfloat16 accumulator shows at its full size;
    // signed data is what models see.
    private static Tensor Data(long[] shape, bool positive, Generator generator, double scale = 1) =>
        ((positive ? rand(shape, generator: generator) : randn(shape, generator: generator)) * scale).to(BF16);

    /// <summary>max over elements of |actual − exact| / (Σ|a||b| + |bias|).</summary>
    private static double WorstRatio(Tensor actual, Tensor exact, Tensor magnitude) =>
        ((actual.to(F64) - exact).abs() / magnitude.clamp_min(1e-30)).max().item<double>();

    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void PatchEmbeddingIsWithinTheDotProductBound(string name)
    {
        using var model = ModelFactory.Load(ReferenceModels.Folder(name), new ModelLoadOptions { DType = BF16 }).Model;
        var vision = model.Config.VisionCfg;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var weight = model.state_dict()["visual.conv1.weight"].to(F64);
        long[] stride = [vision.PatchSize, vision.PatchSize];
        long k = vision.InChannels * vision.PatchSize * vision.PatchSize;
        var generator = new Generator(5);
        foreach (bool positive in new[] { true, false })
        {
            var pixels = Data([2, vision.InChannels, vision.ImageSize, vision.ImageSize], positive, generator);
            var actual = model.Visual.PatchEmbedding(pixels);
            Assert.Equal(BF16, actual.dtype);
            var exact = nn.functional.conv2d(pixels.to(F64), weight, strides: stride);
            var magnitude = nn.functional.conv2d(pixels.to(F64).abs(), weight.abs(), strides: stride);
            double ratio = WorstRatio(actual, exact, magnitude);
            output.WriteLine($"{name} patch embedding ({(positive ? "positive" : "signed")} pixels, K = {k}): worst |error| / Σ|a||b| = {ratio:E2}, bound {BFloat16Bounds.Dot(k):E2}");
            Assert.True(ratio <= BFloat16Bounds.Dot(k), $"{name} patch embedding: |error| / Σ|a||b| = {ratio:E3} exceeds {BFloat16Bounds.Dot(k):E3}");
        }
    }

    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void LinearMapsAreWithinTheDotProductBound(string name)
    {
        var config = ConfigJson.Load(Path.Combine(ReferenceModels.Folder(name), "open_clip_config.json"));
        var vision = config.VisionCfg;
        var text = config.TextCfg;
        long visionTokens = 2 * (vision.GridSize * vision.GridSize + 1), textTokens = 2 * text.ContextLength;
        // (tokens, in, out) of in_proj, out_proj, c_fc, c_proj in each tower, and the two projections (no bias).
        var maps = new List<(string What, long Rows, long In, long Out, bool Bias)>();
        foreach (var (tower, rows, width, mlp) in new[] { ("vision", visionTokens, vision.Width, vision.MlpWidth), ("text", textTokens, text.Width, text.MlpWidth) })
        {
            maps.Add(($"{tower} in_proj", rows, width, 3 * width, true));
            maps.Add(($"{tower} out_proj", rows, width, width, true));
            maps.Add(($"{tower} c_fc", rows, width, mlp, true));
            maps.Add(($"{tower} c_proj", rows, mlp, width, true));
        }
        maps.Add(("visual.proj", 2, vision.Width, config.EmbedDim, false));
        maps.Add(("text_projection", 2, text.Width, config.EmbedDim, false));

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(9);
        foreach (var (what, rows, inputs, outputs, hasBias) in maps)
        foreach (bool positive in new[] { true, false })
        {
            var x = Data([2, rows / 2, inputs], positive, generator);
            var w = Data([outputs, inputs], positive, generator, 1 / Math.Sqrt(inputs));
            var b = hasBias ? Data([outputs], positive, generator, 0.1) : null;
            // The model's calls: BFloat16Ops for the blocks (the AVX512-BF16 kernels or libtorch's linear), matmul
            // for the projections.
            var actual = hasBias ? BFloat16Ops.Linear(x, w, b, new PackedWeight()) : x.matmul(w.t());
            Assert.Equal(BF16, actual.dtype);
            var exact = nn.functional.linear(x.to(F64), w.to(F64), b?.to(F64));
            var magnitude = nn.functional.linear(x.to(F64).abs(), w.to(F64).abs(), b?.to(F64).abs());
            double ratio = WorstRatio(actual, exact, magnitude);
            output.WriteLine($"{name} {what} [{rows}×{inputs}]·[{inputs}×{outputs}] ({(positive ? "positive" : "signed")}): worst |error| / Σ|a||b| = {ratio:E2}, bound {BFloat16Bounds.Dot(inputs):E2}");
            Assert.True(ratio <= BFloat16Bounds.Dot(inputs), $"{name} {what}: |error| / Σ|a||b| = {ratio:E3} exceeds {BFloat16Bounds.Dot(inputs):E3}");
        }
    }

    // The bound must be able to fail: a sum accumulated in bfloat16, and one that drops 1/14 of its terms (as the
    // faulty oneDNN convolution did for one kernel row in 14), both exceed it.
    [Fact]
    public void TheBoundCatchesBFloat16AccumulationAndMissingTerms()
    {
        const int k = 588;   // 3×14×14, the patch embedding of a patch-14 model
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var a = Data([64, k], positive: true, generator);
        var b = Data([k], positive: true, generator);
        var exact = a.to(F64).matmul(b.to(F64));   // Σ|a||b| = Σab for positive data

        var running = zeros(64, dtype: BF16);
        for (int i = 0; i < k; i++) running = (running + a[.., i] * b[i]).to(BF16);   // every partial sum rounded
        double accumulated = WorstRatio(running, exact, exact);

        var dropped = a[.., ..(k - k / 14)].to(ScalarType.Float32).matmul(b[..(k - k / 14)].to(ScalarType.Float32)).to(BF16);
        double missing = WorstRatio(dropped, exact, exact);
        output.WriteLine($"bfloat16 accumulation: {accumulated:E2}; 1/14 of the terms dropped: {missing:E2}; bound {BFloat16Bounds.Dot(k):E2}");
        Assert.True(accumulated > BFloat16Bounds.Dot(k), $"bfloat16 accumulation passed the bound ({accumulated:E3})");
        Assert.True(missing > BFloat16Bounds.Dot(k), $"dropped terms passed the bound ({missing:E3})");
    }
}
