using OpenVision.Configs;

namespace OpenVision.Tests.Configs;

public class ConfigJsonTests
{
    private const string Bare = """
        { "embed_dim": 32,
          "vision_cfg": { "image_size": [32, 32], "layers": 2, "width": 64, "patch_size": 8, "head_width": 32,
                          "no_ln_pre": true, "pool_type": "avg", "final_ln_after_pool": true, "norm_kwargs": {"eps": 1e-6} },
          "text_cfg": { "context_length": 80, "vocab_size": 32000, "width": 32, "heads": 2, "layers": 2,
                        "pool_type": "last", "no_causal_mask": true, "act_kwargs": {"approximate": "tanh"} } }
        """;

    [Fact]
    public void ParsesBareForm()
    {
        var config = ConfigJson.Parse(Bare, "bare.json");
        Assert.Equal(32, config.VisionCfg.ImageSize);
        Assert.Equal(VisionPoolType.Avg, config.VisionCfg.PoolType);
        Assert.Equal(1e-6, config.VisionCfg.NormKwargs.Eps);
        Assert.Equal(1e-5, config.TextCfg.NormKwargs.Eps);            // open_clip default when absent
        Assert.Equal("tanh", config.TextCfg.ActKwargs!.Approximate);
        Assert.Equal(PreprocessConfig.OpenVisionDefault, config.Preprocess);
    }

    [Fact]
    public void ParsesHubFormFromReference()
    {
        var config = ConfigJson.Load(ReferenceData.Path("models", "ovtest-mini-so-p14-46", "open_clip_config.json"));
        Assert.Equal(3.7362, config.VisionCfg.MlpRatio);
        Assert.Equal(269, config.VisionCfg.MlpWidth);                 // int(72 * 3.7362 = 269.006) truncates
        Assert.Equal(3, config.VisionCfg.GridSize);                   // 46 px / 14 → 3 patches, 4 px ignored
        Assert.Equal("squash", config.Preprocess.ResizeMode);
    }

    [Theory]
    // open_clip's CLIP(embed_dim, vision_cfg, text_cfg) has no default for these; ViT-B sizes must not stand in.
    [InlineData("""{"model_cfg": {"vision_cfg": {}, "text_cfg": {}}}""", "x.json: model_cfg.embed_dim is missing")]
    [InlineData("""{"model_cfg": {"embed_dim": 32}, "preprocess_cfg": {}}""", "x.json: model_cfg.vision_cfg is missing")]
    [InlineData("""{"model_cfg": {}}""", "x.json: model_cfg.embed_dim is missing; model_cfg.vision_cfg is missing")]
    [InlineData("""{"vision_cfg": {"width": 64}}""", "x.json: embed_dim is missing")]
    [InlineData("""{"embed_dim": 32}""", "x.json: vision_cfg is missing")]
    [InlineData("{}", "x.json: no model_cfg; expected {\"model_cfg\": …, \"preprocess_cfg\": …}")]
    [InlineData("""{"preprocess_cfg": {"mean": [0.5, 0.5, 0.5]}}""", "x.json: no model_cfg; expected {\"model_cfg\": …, \"preprocess_cfg\": …}")]
    public void RequiredFieldsAreNamedWhenMissing(string json, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigJson.Parse(json, "x.json"));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void AVisionOnlyConfigNeedsNoTextCfg()
    {
        var config = ConfigJson.Parse("""{"embed_dim": 8, "vision_cfg": {}}""", "x.json");
        Assert.True(config.IsVisionOnly);
        Assert.Equal(768, config.VisionCfg.Width);                      // vision_cfg fields keep open_clip's defaults
    }

    [Fact]
    public void UnknownKeysAreErrorsThatNameThem()
    {
        string json = Bare.Replace("\"no_ln_pre\": true", "\"no_ln_pre\": true, \"qk_norm\": true")
                          .Replace("\"embed_dim\": 32", "\"embed_dim\": 32, \"vitual_cfg\": {}");
        var e = Assert.Throws<ConfigException>(() => ConfigJson.Parse(json, "typo.json"));
        Assert.Contains("vision_cfg.qk_norm", e.Message);
        Assert.Contains("vitual_cfg", e.Message);
        Assert.Contains("typo.json", e.Message);
    }

    [Theory]
    [InlineData("\"ls_init_value\": 0.1", "ls_init_value")]
    [InlineData("\"attentional_pool\": true", "attentional_pool")]
    [InlineData("\"pos_embed_type\": \"sin_cos_2d\"", "pos_embed_type")]
    public void UnsupportedValuesAreErrors(string setting, string expected)
    {
        string json = Bare.Replace("\"no_ln_pre\": true", "\"no_ln_pre\": true, " + setting);
        var e = Assert.Throws<ConfigException>(() => ConfigJson.Parse(json, "x.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InconsistentSizesAreErrors()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigJson.Parse(Bare.Replace("\"head_width\": 32", "\"head_width\": 48"), "x.json"));
        Assert.Contains("not divisible", e.Message);
    }

    [Fact]
    public void HubJsonRoundTrips()
    {
        var config = ModelRegistry.Get("openvision-vit-so400m-patch14-384");
        var again = ConfigJson.Parse(ConfigJson.ToHubJson(config), "again");
        Assert.Equal(ConfigJson.ToHubJson(config), ConfigJson.ToHubJson(again));
        Assert.Equal(config.VisionCfg with { Unrecognized = null }, again.VisionCfg with { Unrecognized = null });
    }

    // open_clip reads pool_type with ==: a config we write must say "avg", as OpenVision's own files do.
    [Fact]
    public void HubJsonWritesPoolTypeAsOpenClipSpellsIt()
    {
        var written = System.Text.Json.Nodes.JsonNode.Parse(ConfigJson.ToHubJson(ModelRegistry.Get("openvision-vit-tiny-patch16-160")))!;
        Assert.Equal("avg", written["model_cfg"]!["vision_cfg"]!["pool_type"]!.GetValue<string>());
        Assert.Equal(VisionPoolType.Tok, ConfigJson.Parse(Bare.Replace("\"pool_type\": \"avg\"", "\"pool_type\": \"TOK\""), "x.json").VisionCfg.PoolType);
    }
}
