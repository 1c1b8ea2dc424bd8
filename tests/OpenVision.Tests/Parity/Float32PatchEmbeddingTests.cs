using OpenVision.Configs;
using OpenVision.Layers;
using OpenVision.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>The float32 patch embedding through the kernels (the patches as rows of one linear layer,
/// <see cref="Float32Ops.Linear"/>) in place of libtorch's convolution: as close to float64 as the convolution, the same
/// bits for an image alone and in a batch, and libtorch's convolution wherever autograd records.</summary>
public class Float32PatchEmbeddingTests(ITestOutputHelper output)
{
    public static TheoryData<int, int, int, int> Shapes() => new()
    {
        // batch, image size, patch size, width: ViT-Ti/16; a /14 tower of width 72 (not a multiple of 32); an image
        // size the patches do not divide (the convolution drops the last 6 rows and columns); 8 px patches
        { 1, 224, 16, 192 }, { 2, 70, 14, 72 }, { 3, 230, 16, 64 }, { 1, 64, 8, 40 },
    };

    private static VisionTransformer Tower(int imageSize, int patchSize, int width) =>
        new(new VisionConfig { ImageSize = imageSize, PatchSize = patchSize, Width = width, Layers = 1, HeadWidth = 8 }, 16);

    // Both float32 paths against float64 arithmetic on the same values (max |Δ| / max |y|): they round the same
    // products in other orders, so the kernel may be at most 3 times the convolution's error plus 1e-7 (one float32
    // rounding of the largest output) and below 1e-6; a dropped channel, pixel or patch would be far more.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheKernelsAgreeWithFloat64AsCloselyAsTheConvolution(int batch, int imageSize, int patchSize, int width)
    {
        if (!Float32Ops.Available) return; // libtorch's convolution runs (Float32BlockTests says why)
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var tower = Tower(imageSize, patchSize, width);
        var pixels = randn([batch, 3, imageSize, imageSize], generator: new Generator((ulong)width));
        var kernels = tower.PatchEmbedding(pixels);
        var weight = tower.named_parameters().First(p => p.name == "conv1.weight").parameter;
        // libtorch's convolution called directly: Float32Ops.UseLibtorchOperations is process-wide and would send the
        // float32 tests running beside this one through libtorch too.
        var convolution = nn.functional.conv2d(pixels, weight, strides: [patchSize, patchSize]);
        Assert.False(RandomBlocks.Same(kernels, convolution), "the kernels ran (another summation order than the convolution's)");
        var exact = nn.functional.conv2d(pixels.to(ScalarType.Float64), weight.to(ScalarType.Float64), strides: [patchSize, patchSize]);
        Assert.Equal(exact.shape, kernels.shape);
        double kernelError = Tolerance.RelativeError(kernels, exact), convolutionError = Tolerance.RelativeError(convolution, exact);
        output.WriteLine($"[{batch}, 3, {imageSize}, {imageSize}] /{patchSize} width {width}: kernels {kernelError:E2}, convolution {convolutionError:E2}");
        Assert.True(kernelError <= 3 * convolutionError + 1e-7 && kernelError < 1e-6, $"kernel error {kernelError:E2} against the convolution's {convolutionError:E2}");
    }

    [Fact]
    public void AnImageGetsTheSameBitsAloneAndInABatch()
    {
        if (!Float32Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var tower = Tower(224, 16, 192);
        var pixels = randn([5, 3, 224, 224], generator: new Generator(3));
        var batched = tower.PatchEmbedding(pixels);
        for (int i = 0; i < 5; i++)
            Assert.True(RandomBlocks.Same(batched[i..(i + 1)], tower.PatchEmbedding(pixels[i..(i + 1)])), $"image {i}");
    }

    // Training records the convolution (the kernels have no backward): the filters get libtorch's gradient.
    [Fact]
    public void WhereAutogradRecordsTheConvolutionRuns()
    {
        using var scope = NewDisposeScope();
        using var tower = Tower(64, 16, 32);
        var pixels = randn([2, 3, 64, 64], generator: new Generator(4));
        var embedded = tower.PatchEmbedding(pixels);
        Assert.True(embedded.requires_grad);
        embedded.square().sum().backward();
        var weight = tower.named_parameters().First(p => p.name == "conv1.weight").parameter;
        using var expected = nn.functional.conv2d(pixels, weight.detach(), strides: [16, 16]);
        Assert.True(RandomBlocks.Same(embedded.detach(), expected), "libtorch's convolution, bit for bit");
        Assert.NotNull(weight.grad);
        Assert.True(weight.grad!.abs().sum().item<float>() > 0);
    }
}
