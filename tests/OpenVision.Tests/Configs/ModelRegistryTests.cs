using OpenVision.Configs;
using OpenVision.Models;

namespace OpenVision.Tests.Configs;

public class ModelRegistryTests
{
    // OpenVision 2's seven vision-only releases (README "Model Zoo (OpenVision 2)": L/14 224 and 336, SoViT-400M/14 384,
    // H/14 224, 336 and 448, g/14 224).
    private static readonly string[] OpenVision2 =
    [
        "openvision2-vit-large-patch14-224-vision-only", "openvision2-vit-large-patch14-336-vision-only",
        "openvision2-vit-so400m-patch14-384-vision-only", "openvision2-vit-huge-patch14-224-vision-only",
        "openvision2-vit-huge-patch14-336-vision-only", "openvision2-vit-huge-patch14-448-vision-only",
        "openvision2-vit-giant-patch14-224-vision-only",
    ];

    [Fact]
    public void HasAllThirtyThreeReleasedConfigs()
    {
        var expected = new List<string>();
        foreach (var size in new[] { "tiny", "small", "base" })
            foreach (var patch in new[] { 8, 16 })
                foreach (var res in new[] { 160, 224, 384 })
                    expected.Add($"openvision-vit-{size}-patch{patch}-{res}");
        expected.AddRange(["openvision-vit-large-patch14-84", "openvision-vit-large-patch14-224", "openvision-vit-large-patch14-336",
            "openvision-vit-so400m-patch14-84", "openvision-vit-so400m-patch14-224", "openvision-vit-so400m-patch14-384",
            "openvision-vit-huge-patch14-84", "openvision-vit-huge-patch14-224"]);
        expected.AddRange(OpenVision2);
        Assert.Equal(expected.Order(), ModelRegistry.Names.Order());
        Assert.Equal("openvision-vit-tiny-patch8-160", ModelRegistry.Names[0]);
        Assert.Equal(OpenVision2, ModelRegistry.Names.TakeLast(OpenVision2.Length));   // after v1, in natural order
        Assert.All(OpenVision2, n => Assert.True(ModelRegistry.Get(n).IsVisionOnly));
    }

    // Vision towers of the OpenVision 2 releases, from the config alone. L/14-224 is the reference's 304.23 M (§8);
    // the others follow from the JAX size table (vit.py decode_variant) with embed_dim = width (the JAX tower has no
    // head, so the converted proj is square, as L/14's 1024×1024): README's 304M, 400M, 632M and 1.01B.
    [Theory]
    [InlineData("openvision2-vit-large-patch14-224-vision-only", 304_226_304)]
    [InlineData("openvision2-vit-large-patch14-336-vision-only", 304_553_984)]
    [InlineData("openvision2-vit-so400m-patch14-384-vision-only", 414_315_504)]
    [InlineData("openvision2-vit-huge-patch14-224-vision-only", 632_401_920)]
    [InlineData("openvision2-vit-huge-patch14-336-vision-only", 632_811_520)]
    [InlineData("openvision2-vit-huge-patch14-448-vision-only", 633_384_960)]
    [InlineData("openvision2-vit-giant-patch14-224-vision-only", 1_013_183_488)]
    public void OpenVision2VisionCounts(string name, long expected) =>
        Assert.Equal(expected, ParameterCounter.Vision(ModelRegistry.Get(name)));

    // The paper's vision-tower sizes (reference §1.4), exact.
    [Theory]
    [InlineData("openvision-vit-tiny-patch8-384", 5_855_232)]
    [InlineData("openvision-vit-tiny-patch16-224", 5_561_088)]
    [InlineData("openvision-vit-small-patch16-224", 21_812_736)]
    [InlineData("openvision-vit-base-patch16-224", 86_191_104)]
    [InlineData("openvision-vit-large-patch14-224", 303_964_160)]
    [InlineData("openvision-vit-large-patch14-336", 304_291_840)]
    [InlineData("openvision-vit-so400m-patch14-224", 413_770_608)]
    [InlineData("openvision-vit-so400m-patch14-384", 414_315_504)]
    [InlineData("openvision-vit-huge-patch14-224", 632_074_240)]
    public void VisionParameterCountsMatchThePaper(string name, long expected) =>
        Assert.Equal(expected, ParameterCounter.Vision(ModelRegistry.Get(name)));

    [Theory]
    [InlineData("openvision-vit-tiny-patch16-224", 11_534_976, 17_096_065)]
    [InlineData("openvision-vit-base-patch16-224", 54_516_736, 140_707_841)]
    [InlineData("openvision-vit-so400m-patch14-384", 449_752_176, 864_067_681)]
    [InlineData("openvision-vit-huge-patch14-224", 336_209_920, 968_284_161)]
    public void TextAndTotalCountsMatchReference(string name, long text, long total)
    {
        var config = ModelRegistry.Get(name);
        Assert.Equal(text, ParameterCounter.Text(config));
        Assert.Equal(total, ParameterCounter.Total(config));
    }

    // The formula must agree with what the model really allocates; build the small ones.
    [Theory]
    [InlineData("openvision-vit-tiny-patch16-160")]
    [InlineData("openvision-vit-tiny-patch8-384")]
    [InlineData("openvision-vit-small-patch16-224")]
    public void FormulaEqualsBuiltModel(string name)
    {
        var config = ModelRegistry.Get(name);
        using var model = new OpenVisionModel(config);
        var counts = model.CountParameters();
        Assert.Equal(ParameterCounter.Vision(config), counts.Vision);
        Assert.Equal(ParameterCounter.Text(config), counts.Text);
        Assert.Equal(ParameterCounter.Total(config), counts.Total);
    }

    [Fact]
    public void UnknownNameSuggestsClosest()
    {
        var e = Assert.Throws<ConfigException>(() => ModelRegistry.Get("openvision-vit-tiny-patch16-225"));
        Assert.Contains("openvision-vit-tiny-patch16-224", e.Message);
    }

    [Fact]
    public void AcceptsOrganisationPrefix() => Assert.True(ModelRegistry.Contains("UCSC-VLAA/openvision-vit-base-patch16-224"));
}
