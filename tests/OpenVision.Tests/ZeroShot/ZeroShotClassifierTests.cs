using System.Text.Json;
using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Tests.Parity;
using OpenVision.Text;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.ZeroShot;

public class ZeroShotClassifierTests
{
    [Theory]
    [InlineData("a bad photo of a {}.", "{}", "a bad photo of a {}")]
    [InlineData("a close-up photo of the {}.", "{}", "a closeup photo of the {}")]
    [InlineData("Mexican hairless dog (xoloitzcuintli)", ",", "mexican hairless dog xoloitzcuintli")]
    [InlineData("great_white  shark", ",", "great white shark")]
    [InlineData("crane, bird", ",", "crane, bird")]
    public void CanonicalizesLikeBigVision(string text, string keep, string expected) =>
        Assert.Equal(expected, PromptSets.Canonicalize(text, keep));

    [Fact]
    public void ShipsImageNetNamesAndTemplates()
    {
        Assert.Equal(1000, PromptSets.ImageNetClassNames.Count);
        Assert.Equal("tench", PromptSets.ImageNetClassNames[0]);
        Assert.Equal(81, PromptSets.ClipPaperTemplates.Count);
        Assert.Contains("{}", PromptSets.ClipPaperTemplates);
    }

    // End to end against the reference: our tokenizer + text tower + classifier reproduce logits_per_image for the
    // reference captions (one template "{}", so each class weight is one normalized text embedding).
    [Fact]
    public void LogitsMatchReferenceLogitsPerImage()
    {
        const string name = "openvision-vit-tiny-patch16-160";
        var folder = ReferenceModels.Folder(name);
        using var model = new OpenVisionModel(ConfigJson.Load(System.IO.Path.Combine(folder, "open_clip_config.json")));
        StateDictLoader.Load(model, SafetensorsFile.Read(System.IO.Path.Combine(folder, "open_clip_model.safetensors")), name);
        var texts = JsonSerializer.Deserialize<string[]>(File.ReadAllText(System.IO.Path.Combine(folder, "texts.json")))!;
        var columns = Enumerable.Range(0, texts.Length).Where(i => texts[i].Trim().Length > 0 && !texts[i].Contains("{}")).ToArray();

        using var classifier = ZeroShotClassifier.Create(model, OpenVisionTokenizer.CreateDefault(), columns.Select(i => texts[i]).ToList());
        var expected = ReferenceModels.Expected(name);
        using var scope = NewDisposeScope();
        var features = model.EncodeImage(expected["pixels"].ToTorch());
        var logits = classifier.Logits(features);
        var reference = expected["logits_per_image"].ToTorch().index_select(1, tensor(columns.Select(c => (long)c).ToArray()));
        Tolerance.AssertClose(logits, reference, Tolerance.Float32, "zero-shot logits");
        var top = classifier.Top(features, 3);
        Assert.Equal(3, top[0].Count);
        Assert.True(top[0][0].Probability >= top[0][1].Probability);
    }

    [Fact]
    public void AveragesTemplatesPerClass()
    {
        using var model = new OpenVisionModel(ModelRegistry.Get("openvision-vit-tiny-patch16-160") with { });
        var tokenizer = OpenVisionTokenizer.CreateDefault();
        string[] templates = ["a photo of a {}.", "a drawing of a {}."];
        using var classifier = ZeroShotClassifier.Create(model, tokenizer, ["dog", "cat"], templates);
        using var scope = NewDisposeScope();
        var dogPrompts = model.EncodeText(tensor(tokenizer.EncodeBatch(["a photo of a dog.", "a drawing of a dog."])), normalize: true);
        var mean = dogPrompts.mean([0]);
        var expected = mean / mean.norm();
        Assert.True(classifier.Weights[0].allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(classifier.Weights.norm(1).sub(1).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void RejectsEmptyInputs()
    {
        using var model = new OpenVisionModel(ModelRegistry.Get("openvision-vit-tiny-patch16-160"));
        var tokenizer = OpenVisionTokenizer.CreateDefault();
        Assert.Throws<ArgumentException>(() => ZeroShotClassifier.Create(model, tokenizer, []));
        Assert.Throws<ArgumentException>(() => ZeroShotClassifier.Create(model, tokenizer, ["dog", " "]));
        Assert.Throws<ArgumentException>(() => ZeroShotClassifier.Create(model, tokenizer, ["dog"], ["no placeholder"]));
    }
}
