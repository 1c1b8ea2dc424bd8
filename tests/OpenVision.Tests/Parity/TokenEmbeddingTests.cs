using OpenVision.Layers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>A vision tower's first tokens in one native call (<see cref="Float32Ops.Embed"/>,
/// <see cref="BFloat16Ops.Embed"/>): class token plus the table's first row, then the patches times the filters plus the
/// rest of the table. float32: the bits of the kernels' patch embedding followed by libtorch's concatenation and
/// addition; bfloat16: one rounding of exact sums.</summary>
public class TokenEmbeddingTests(ITestOutputHelper output)
{
    private static readonly ScalarType BF16 = ScalarType.BFloat16, F64 = ScalarType.Float64;

    public static TheoryData<int, int, int, int> Shapes() => new()
    {
        // batch, image size, patch size, width: ViT-Ti/16; /14 at width 72 (not a multiple of 32 or 16); an image size
        // the patches do not divide (the last 6 rows and columns dropped); 8 px patches; ViT-L/14 at 224
        { 1, 224, 16, 192 }, { 2, 70, 14, 72 }, { 3, 230, 16, 64 }, { 1, 64, 8, 40 }, { 2, 224, 14, 1024 },
    };

    // The reference sequence: patches as rows times the filters (the kernels' patch embedding, as Float32Ops.Linear),
    // then the class token concatenated in front and the table added.
    private static Tensor Sequence(Tensor pixels, int patch, Tensor filters, Tensor classToken, Tensor positions)
    {
        long batch = pixels.size(0), channels = pixels.size(1), grid = pixels.size(2) / patch;
        var patches = pixels[.., .., ..(int)(grid * patch), ..(int)(grid * patch)].reshape(batch, channels, grid, patch, grid, patch)
            .permute(0, 2, 4, 1, 3, 5).reshape(batch, grid * grid, channels * patch * patch);
        var embedded = Float32Ops.Linear(patches, filters, null, new PackedWeight())!;
        var tokens = cat([classToken.view(1, 1, -1).expand(batch, 1, -1), embedded], 1);
        return tokens.add(positions, 1);
    }

    // Random filters [W, C·p·p] (scaled so the tokens stay of order one), class token [W] and table [1 + g², W] of `dtype`.
    private static (Tensor Filters, Tensor ClassToken, Tensor Positions) RandomOperands(Generator generator, int patch, int width, long grid,
                                                                                       ScalarType dtype) =>
        ((randn([width, 3 * patch * patch], generator: generator) * 0.05).to(dtype), randn([width], generator: generator).to(dtype),
         randn([1 + grid * grid, width], generator: generator).to(dtype));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32GivesTheBitsOfThePatchEmbeddingThenTheConcatenationAndTheAddition(int batch, int imageSize, int patch, int width)
    {
        if (!Float32Ops.Available) return; // libtorch runs (Float32BlockTests says why)
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(imageSize + width));
        long grid = imageSize / patch;
        var pixels = randn([batch, 3, imageSize, imageSize], generator: generator);
        var (filters, classToken, positions) = RandomOperands(generator, patch, width, grid, ScalarType.Float32);
        var actual = Float32Ops.Embed(pixels, patch, filters, new PackedWeight(), classToken, positions);
        Assert.NotNull(actual);
        Assert.True(RandomBlocks.Same(Sequence(pixels, patch, filters, classToken, positions), actual!), $"[{batch}, 3, {imageSize}, {imageSize}] /{patch} width {width}");
        output.WriteLine($"[{batch}, 3, {imageSize}, {imageSize}] /{patch} width {width}: {actual!.shape[1]} tokens, the same bits");
    }

    // Small integers: every float32 sum is exact, so each token must be the float64 value rounded once, bit for bit.
    [Theory]
    [MemberData(nameof(Shapes))]
    public void BFloat16IsOneRoundingOfExactSums(int batch, int imageSize, int patch, int width)
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(imageSize * 3 + width));
        long grid = imageSize / patch, kept = grid * patch;
        var pixels = ExactValues.SmallIntegers(generator, 8, 1, batch, 3, imageSize, imageSize);
        var filters = ExactValues.SmallIntegers(generator, 8, 1 / 8.0, width, 3 * patch * patch);
        var classToken = ExactValues.SmallIntegers(generator, 512, 1 / 4.0, width);
        var positions = ExactValues.SmallIntegers(generator, 4096, 1 / 16.0, 1 + grid * grid, width);
        var actual = BFloat16Ops.Embed(pixels, patch, filters, new PackedWeight(), classToken, positions);
        Assert.NotNull(actual);
        var weight = filters.to(F64).view(width, 3, patch, patch);
        var embedded = nn.functional.conv2d(pixels[.., .., ..(int)kept, ..(int)kept].to(F64), weight, strides: [patch, patch]).flatten(2).transpose(1, 2);
        var exact = cat([classToken.to(F64).view(1, 1, -1).expand(batch, 1, -1), embedded], 1) + positions.to(F64);
        Assert.True(exact.abs().max().item<double>() < 1 << 21, "sums must stay exact in float32");
        Assert.True(RandomBlocks.Same(exact.to(ScalarType.Float32).to(BF16), actual!), $"[{batch}, 3, {imageSize}, {imageSize}] /{patch} width {width}");
    }

    // Float32 images for a bfloat16 tower: each pixel rounded as it is cut out must give the tokens of the cast images,
    // bit for bit, including pixels a cast treats specially (ties, denormals, NaN, infinities, values past bfloat16's
    // range).
    [Theory]
    [MemberData(nameof(Shapes))]
    public void BFloat16FromFloat32PixelsIsTheCastImages(int batch, int imageSize, int patch, int width)
    {
        if (!BFloat16Ops.Available) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator((ulong)(imageSize * 5 + width));
        long grid = imageSize / patch;
        var pixels = randn([batch, 3, imageSize, imageSize], generator: generator);
        var flat = pixels.view(-1);
        float[] special = [1.00390625f, 1.01171875f, 1e-40f, -3e-39f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3.4e38f];
        for (int i = 0; i < special.Length; i++) flat[i * 7].fill_(special[i]);
        var (filters, classToken, positions) = RandomOperands(generator, patch, width, grid, BF16);
        var fromFloat = BFloat16Ops.Embed(pixels, patch, filters, new PackedWeight(), classToken, positions);
        var fromCast = BFloat16Ops.Embed(pixels.to(BF16), patch, filters, new PackedWeight(), classToken, positions);
        Assert.NotNull(fromFloat);
        Assert.NotNull(fromCast);
        // NaN where the cast has NaN, the same values everywhere else (bfloat16 widens to float32 exactly).
        var expected = fromCast!.to(ScalarType.Float32);
        var actual = fromFloat!.to(ScalarType.Float32);
        Assert.True(expected.isnan().any().item<bool>(), "the NaN pixel reaches the tokens");
        Assert.True(expected.isnan().eq(actual.isnan()).all().item<bool>() && expected.nan_to_num(0).eq(actual.nan_to_num(0)).all().item<bool>(),
            $"[{batch}, 3, {imageSize}, {imageSize}] /{patch} width {width}");
    }

    // Other element types, a table of the wrong size, a patch size that does not match the filters, and operands autograd
    // records for go back to the caller's path.
    [Fact]
    public void ItStepsAsideWhereItDoesNotApply()
    {
        if (!Float32Ops.Available) return;
        using var scope = NewDisposeScope();
        var pixels = randn([1, 3, 32, 32]);
        var filters = randn([16, 3 * 8 * 8]);
        var classToken = randn([16]);
        var positions = randn([17, 16]);
        using (no_grad())
        {
            Assert.NotNull(Float32Ops.Embed(pixels, 8, filters, new PackedWeight(), classToken, positions));
            Assert.Null(Float32Ops.Embed(pixels.to(F64), 8, filters, new PackedWeight(), classToken, positions));
            Assert.Null(Float32Ops.Embed(pixels, 8, filters, new PackedWeight(), classToken, positions[..16]));
            Assert.Null(Float32Ops.Embed(pixels, 16, filters, new PackedWeight(), classToken, positions));
            Assert.Null(Float32Ops.Embed(pixels[.., .., .., ..31], 8, filters, new PackedWeight(), classToken, positions));
        }
        Assert.Null(Float32Ops.Embed(pixels, 8, filters, new PackedWeight(), classToken.requires_grad_(), positions));
    }
}
