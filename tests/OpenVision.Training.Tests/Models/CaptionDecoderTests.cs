using OpenVision.Configs;
using OpenVision.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

public class CaptionDecoderTests
{
    // 3 prefix tokens (P) then 4 queries (Q); 1 = may attend. Row = attending position, column = attended.
    private static readonly int[,] ExpectedAllowed =
    {
        { 1, 1, 1, 0, 0, 0, 0 },   // prefix: all prefix, no query
        { 1, 1, 1, 0, 0, 0, 0 },
        { 1, 1, 1, 0, 0, 0, 0 },
        { 1, 1, 1, 1, 0, 0, 0 },   // query 0: prefix + itself
        { 1, 1, 1, 1, 1, 0, 0 },
        { 1, 1, 1, 1, 1, 1, 0 },
        { 1, 1, 1, 1, 1, 1, 1 },   // query 3: everything
    };

    [Fact]
    public void MaskTensorIsThePrefixLmMask()
    {
        using var scope = NewDisposeScope();
        var mask = CaptionDecoder.AttentionMask(3, 4, ScalarType.Float64);
        Assert.Equal(new long[] { 7, 7 }, mask.shape);
        var values = mask.data<double>().ToArray();
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 7; j++)
                Assert.Equal(ExpectedAllowed[i, j] == 1 ? 0.0 : double.NegativeInfinity, values[i * 7 + j]);
    }

    private static CaptionDecoder TinyDecoder(int queries = 4)
    {
        torch.manual_seed(21);
        var decoder = new CaptionDecoder(new DecoderConfig { Width = 8, Layers = 2, Heads = 2, MlpWidth = 16, QueryTokens = queries, VocabSize = 11 }, imageWidth: 6, textWidth: 5);
        return decoder.to(ScalarType.Float64);
    }

    // 2 image tokens + 1 text token = 3 prefix positions, 4 queries. Perturbing input position k must change exactly
    // the outputs of the positions allowed to see it (directly or through earlier layers): the column of the mask's
    // transitive closure, which here equals the mask's column because the mask is already transitively closed.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void PerturbingOneInputChangesExactlyTheOutputsThatMaySeeIt(int position)
    {
        using var decoder = TinyDecoder();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var generator = new Generator(4);
        var image = torch.randn([2, 2, 6], ScalarType.Float64, generator: generator);
        var text = torch.randn([2, 1, 5], ScalarType.Float64, generator: generator);
        var before = decoder.ForwardSequence(image, text);                    // [B, 7, W]
        var logitsBefore = decoder.call(image, text);                        // [B, 4, V]

        // Not a constant shift: LayerNorm would erase it, and a query's change would then reach no other position.
        var queries = decoder.named_parameters().Single(p => p.name == "queries").parameter;
        Tensor Bump(long width) => torch.linspace(-1, 1, width, dtype: ScalarType.Float64);
        if (position < 2) image[.., position].add_(Bump(6));
        else if (position == 2) text[.., 0].add_(Bump(5));
        else queries[position - 3].add_(Bump(8));

        var after = decoder.ForwardSequence(image, text);
        var logitsAfter = decoder.call(image, text);
        for (int output = 0; output < 7; output++)
        {
            double change = (after[.., output] - before[.., output]).abs().max().item<double>();
            if (ExpectedAllowed[output, position] == 1) Assert.True(change > 1e-6, $"output {output} should see input {position}");
            else Assert.Equal(0.0, change);                                  // bit-identical: masked weights are exactly 0
            if (output < 3) continue;
            double logitChange = (logitsAfter[.., output - 3] - logitsBefore[.., output - 3]).abs().max().item<double>();
            Assert.Equal(ExpectedAllowed[output, position] == 1, logitChange > 0);
        }
    }

    [Fact]
    public void LogitsHaveOneRowPerQuery()
    {
        using var decoder = TinyDecoder(queries: 5);
        using var scope = NewDisposeScope();
        var logits = decoder.call(torch.randn([3, 4, 6], ScalarType.Float64), torch.randn([3, 7, 5], ScalarType.Float64));
        Assert.Equal(new long[] { 3, 5, 11 }, logits.shape);
    }

    // The checkpoint contract: keys and shapes (W = 8, M = 16, V = 11, Q = 4, Wv = 6, Wt = 5).
    [Fact]
    public void StateDictKeysAndShapes()
    {
        using var decoder = TinyDecoder();
        var expected = new List<string> { "image_proj.weight 8x6", "text_proj.weight 8x5", "queries 4x8", "ln_final.weight 8", "ln_final.bias 8", "head.weight 11x8" };
        for (int i = 0; i < 2; i++)
            expected.AddRange(new[]
            {
                "ln_1.weight 8", "ln_1.bias 8", "attn.in_proj_weight 24x8", "attn.in_proj_bias 24", "attn.out_proj.weight 8x8",
                "attn.out_proj.bias 8", "ln_2.weight 8", "ln_2.bias 8", "mlp.c_fc.weight 16x8", "mlp.c_fc.bias 16",
                "mlp.c_proj.weight 8x16", "mlp.c_proj.bias 8",
            }.Select(k => $"resblocks.{i}.{k}"));
        var actual = decoder.state_dict().Select(kv => $"{kv.Key} {string.Join('x', kv.Value.shape)}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }

    // text_decoder.decode_variant: width / depth / heads / MLP per size.
    [Theory]
    [InlineData(EncoderSize.Tiny, 192, 12, 3, 768)]
    [InlineData(EncoderSize.Small, 384, 12, 6, 1536)]
    [InlineData(EncoderSize.Base, 512, 12, 8, 2048)]
    [InlineData(EncoderSize.Large, 768, 12, 12, 3072)]
    [InlineData(EncoderSize.So400m, 1152, 27, 16, 4304)]
    [InlineData(EncoderSize.Huge, 1024, 24, 16, 4096)]
    public void SizeTable(EncoderSize size, int width, int layers, int heads, int mlp)
    {
        var config = DecoderConfig.For(size);
        Assert.Equal((width, layers, heads, mlp, 128, 32000, 1e-6), (config.Width, config.Layers, config.Heads, config.MlpWidth, config.QueryTokens, config.VocabSize, config.Eps));
    }

    [Theory]
    [InlineData("openvision-vit-tiny-patch8-384", EncoderSize.Tiny)]
    [InlineData("openvision-vit-small-patch16-160", EncoderSize.Small)]
    [InlineData("openvision-vit-base-patch16-224", EncoderSize.Base)]
    [InlineData("openvision-vit-large-patch14-336", EncoderSize.Large)]
    [InlineData("openvision-vit-so400m-patch14-384", EncoderSize.So400m)]
    [InlineData("openvision-vit-huge-patch14-224", EncoderSize.Huge)]
    public void EveryBuiltinFamilyHasItsDecoder(string name, EncoderSize size)
    {
        Assert.Equal(size, DecoderConfig.SizeOf(ModelRegistry.Get(name)));
        Assert.Equal(DecoderConfig.For(size), DecoderConfig.For(ModelRegistry.Get(name)));
    }

    [Fact]
    public void AllBuiltinConfigsMapToADecoder()
    {
        // Vision-only (OpenVision 2) releases ship their own caption decoder, not a CLIPS one.
        var clipsModels = ModelRegistry.Names.Select(ModelRegistry.Get).Where(c => !c.IsVisionOnly).ToList();
        Assert.True(clipsModels.Count >= 26);
        foreach (var config in clipsModels) DecoderConfig.For(config).Validate();
    }

    [Fact]
    public void UnknownWidthsAndBadConfigsAreRejected()
    {
        Assert.Contains("give a DecoderConfig explicitly", Assert.Throws<ArgumentException>(() => DecoderConfig.For(TinyModels.Config())).Message);
        Assert.Throws<ArgumentException>(() => new DecoderConfig { Width = 10, Heads = 3 }.Validate());
        Assert.Throws<ArgumentException>(() => new DecoderConfig { QueryTokens = 0 }.Validate());
    }
}
