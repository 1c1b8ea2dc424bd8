using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>Every reference model, loaded from its checkpoint, reproduces the reference outputs in fp32 and fp64.</summary>
public class ModelParityTests
{
    private static OpenVisionModel LoadSafetensors(string name)
    {
        var config = ConfigJson.Load(System.IO.Path.Combine(ReferenceModels.Folder(name), "open_clip_config.json"), name);
        var model = new OpenVisionModel(config);
        var weights = SafetensorsFile.Read(System.IO.Path.Combine(ReferenceModels.Folder(name), "open_clip_model.safetensors"));
        StateDictLoader.Load(model, weights, name);
        model.eval();
        return model;
    }

    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void Float32OutputsMatchReference(string name)
    {
        using var model = LoadSafetensors(name);
        AssertOutputs(model, ReferenceModels.Expected(name), "", Tolerance.Float32);
    }

    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void Float64OutputsMatchReference(string name)
    {
        using var model = LoadSafetensors(name);
        model.to(ScalarType.Float64);
        AssertOutputs(model, ReferenceModels.Expected(name), "_f64", Tolerance.Float64);
    }

    internal static void AssertOutputs(OpenVisionModel model, Dictionary<string, TensorData> expected, string suffix, double bound)
    {
        using var scope = NewDisposeScope();
        var dtype = suffix == "_f64" ? ScalarType.Float64 : ScalarType.Float32;
        var pixels = expected["pixels"].ToTorch().to(dtype);
        var ids = expected["text_ids"].ToTorch();

        using var image = model.EncodeImageDetailed(pixels, layers: [-2]);
        var text = model.EncodeText(ids);
        var logits = model.Logits(image.Features, text);

        Assert.Equal(dtype, image.Features.dtype);
        Tolerance.AssertClose(image.Features, expected["image_features" + suffix].ToTorch(), bound, "image_features" + suffix);
        Tolerance.AssertClose(image.Tokens, expected["image_tokens" + suffix].ToTorch(), bound, "image_tokens" + suffix);
        Tolerance.AssertClose(image.Hidden[model.ResolveLayer(-2)], expected["image_hidden_m2" + suffix].ToTorch(), bound, "image_hidden_m2" + suffix);
        Tolerance.AssertClose(text, expected["text_features" + suffix].ToTorch(), bound, "text_features" + suffix);
        Tolerance.AssertClose(logits, expected["logits_per_image" + suffix].ToTorch(), bound, "logits_per_image" + suffix);
    }
}
