using OpenVision.Configs;
using OpenVision.Models;

namespace OpenVision.Tests.Configs;

public class ModelRegistryTests
{
    [Fact]
    public void HasAllTwentySixReleasedConfigs()
    {
        var expected = new List<string>();
        foreach (var size in new[] { "tiny", "small", "base" })
            foreach (var patch in new[] { 8, 16 })
                foreach (var res in new[] { 160, 224, 384 })
                    expected.Add($"openvision-vit-{size}-patch{patch}-{res}");
        expected.AddRange(["openvision-vit-large-patch14-84", "openvision-vit-large-patch14-224", "openvision-vit-large-patch14-336",
            "openvision-vit-so400m-patch14-84", "openvision-vit-so400m-patch14-224", "openvision-vit-so400m-patch14-384",
            "openvision-vit-huge-patch14-84", "openvision-vit-huge-patch14-224"]);
        Assert.Equal(expected.Order(), ModelRegistry.Names.Order());
        Assert.Equal("openvision-vit-tiny-patch8-160", ModelRegistry.Names[0]);
        Assert.Equal("openvision-vit-huge-patch14-224", ModelRegistry.Names[^1]);
    }

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
