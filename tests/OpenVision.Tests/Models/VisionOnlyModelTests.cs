using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Tests.Fixtures;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Models;

/// <summary>Configs without <c>text_cfg</c> build an image encoder only, load the released key layout strictly and
/// refuse text operations in one line.</summary>
public class VisionOnlyModelTests
{
    private const string Released = "openvision2-vit-large-patch14-224-vision-only";

    private static string MiniA => TestFiles.Fixture("ov2", "ov2-mini-a");

    [Fact]
    public void AConfigWithoutTextCfgIsVisionOnly()
    {
        var config = ConfigJson.Parse("""{"embed_dim": 8, "vision_cfg": {"image_size": 28, "patch_size": 14, "width": 16, "layers": 1, "head_width": 8}}""", "mem");
        Assert.True(config.IsVisionOnly);
        Assert.Null(config.OptionalTextCfg);
        var e = Assert.Throws<InvalidOperationException>(() => config.TextCfg);
        Assert.Equal("model mem is vision-only: it has no text tower (zero-shot/text embedding need one)", e.Message);
        Assert.Contains("vision-only", config.ToString());          // ToString must not throw
        Assert.False(ModelRegistry.Get("openvision-vit-tiny-patch16-160").IsVisionOnly);
    }

    [Fact]
    public void HubJsonRoundTripKeepsItVisionOnly()
    {
        var config = ModelRegistry.Get(Released);
        string json = ConfigJson.ToHubJson(config);
        Assert.DoesNotContain("text_cfg", json);
        var back = ConfigJson.Parse(json, "back");
        Assert.True(back.IsVisionOnly);
        Assert.Equal(config.VisionCfg, back.VisionCfg with { Unrecognized = null });
    }

    // L/14-224: 294 tensors without the visual. prefix (reference §8), 304.23 M parameters.
    [Fact]
    public void LargeHasTheReleasedKeyCount()
    {
        var config = ModelRegistry.Get(Released);
        Assert.Equal(304_226_304, ParameterCounter.Vision(config));
        Assert.Equal(0, ParameterCounter.Text(config));
        Assert.Equal(ParameterCounter.Vision(config), ParameterCounter.Total(config));
        // Same key layout at a small width: 3 stem tensors + 12 per block + ln_post (2) + proj.
        using var model = new OpenVisionModel(config with { VisionCfg = config.VisionCfg with { Width = 64, HeadWidth = 32 }, EmbedDim = 64 });
        var keys = VisionOnlyLayout.ToReleaseKeys(StateDictLoader.Export(model)).Keys.ToList();
        Assert.Equal(294, keys.Count);
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("transformer.resblocks.23.mlp.c_proj.bias", keys);
        Assert.DoesNotContain("ln_pre.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains("logit_scale") || k.StartsWith("visual.", StringComparison.Ordinal));
    }

    [Fact]
    public void TextOperationsRefuseInOneLine()
    {
        var (model, _) = ModelFactory.Load(MiniA);
        using (model)
        {
            Assert.False(model.HasTextTower);
            using var ids = torch.zeros(1, 80, ScalarType.Int64);
            foreach (var action in new Action[] { () => model.EncodeText(ids), () => _ = model.LogitScale, () => _ = model.TextConfig })
            {
                var e = Assert.Throws<InvalidOperationException>(action);
                Assert.Equal("model ov2-mini-a is vision-only: it has no text tower (zero-shot/text embedding need one)", e.Message);
            }
            var counts = model.CountParameters();
            Assert.Equal(0, counts.Text);
            Assert.Equal(ParameterCounter.Vision(model.Config), counts.Vision);
        }
    }

    [Fact]
    public void EncoderLoadsAndRefusesTexts()
    {
        using var encoder = OpenVisionEncoder.Load(MiniA);
        var e = Assert.Throws<InvalidOperationException>(() => encoder.EncodeTexts(["a cat"]));
        Assert.Contains("is vision-only", e.Message);
    }

    [Fact]
    public void BFloat16AndFloat64Work()
    {
        var (model, _) = ModelFactory.Load(MiniA, new ModelLoadOptions { DType = ScalarType.BFloat16 });
        using (model)
        {
            Assert.Equal(ScalarType.BFloat16, model.DType);
            using var pixels = torch.randn(1, 3, 42, 42);
            using var features = model.EncodeImage(pixels);
            Assert.Equal(ScalarType.Float32, features.dtype);
        }
    }

    [Fact]
    public void SaveWritesTheReleasedLayoutAndLoadsBack()
    {
        using var temp = TestFiles.NewTempFolder();
        var (model, _) = ModelFactory.Load(MiniA, new ModelLoadOptions { DType = ScalarType.Float64 });
        using (model)
        {
            ModelFactory.Save(model, temp.Root, alsoPytorchBin: true);
            var saved = StateDictReader.Read(temp.Path("open_clip_pytorch_model.bin"));
            var original = StateDictReader.Read(Path.Combine(MiniA, "open_clip_pytorch_model.bin"));
            Assert.Equal(original.Keys.Order(), saved.Keys.Order());
            var (reloaded, _) = ModelFactory.Load(temp.Root, new ModelLoadOptions { DType = ScalarType.Float64 });
            using (reloaded)
            {
                using var pixels = torch.randn(2, 3, 42, 42, ScalarType.Float64);
                using var a = model.EncodeImage(pixels);
                using var b = reloaded.EncodeImage(pixels);
                Assert.True(a.allclose(b, rtol: 0, atol: 0));
            }
        }
    }

    // A whole-CLIP checkpoint (visual.* plus text keys) loads as the encoder: only the visual.* keys are the tower,
    // as in the reference's create_vision_encoder_and_transforms.
    [Fact]
    public void PrefixedKeysSelectTheTower()
    {
        var released = StateDictReader.Read(Path.Combine(MiniA, "open_clip_pytorch_model.bin"));
        var whole = released.ToDictionary(p => "visual." + p.Key, p => p.Value);
        whole["token_embedding.weight"] = released["conv1.weight"];
        var adapted = VisionOnlyLayout.ToModelKeys(whole);
        Assert.Equal(released.Count, adapted.Count);
        Assert.All(adapted.Keys, k => Assert.StartsWith("visual.", k));
    }

    [Fact]
    public void MissingTensorIsRefusedStrictly()
    {
        using var temp = TestFiles.NewTempFolder();
        File.Copy(Path.Combine(MiniA, ModelFiles.Config), temp.Path(ModelFiles.Config));
        var released = StateDictReader.Read(Path.Combine(MiniA, "open_clip_pytorch_model.bin"));
        released.Remove("ln_post.bias");
        SafetensorsFile.Write(temp.Path("open_clip_model.safetensors"), released, null);
        var e = Assert.ThrowsAny<Exception>(() => ModelFactory.Load(temp.Root).Model.Dispose());
        Assert.Contains("visual.ln_post.bias", e.Message);
    }
}
