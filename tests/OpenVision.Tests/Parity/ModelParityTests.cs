using OpenVision.Checkpoints;
using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>Every reference model, loaded from its checkpoint, reproduces the reference outputs in fp32 and fp64.</summary>
public class ModelParityTests
{
    // The folder holds both files for the mini models; ModelFactory prefers the safetensors one.
    private static OpenVisionModel Load(string reference, ScalarType dtype, string expectedWeights)
    {
        var (model, source) = ModelFactory.Load(reference, new ModelLoadOptions { DType = dtype });
        Assert.Equal(expectedWeights, System.IO.Path.GetFileName(source.WeightsPath));
        return model;
    }

    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void Float32OutputsMatchReference(string name)
    {
        using var model = Load(ReferenceModels.Folder(name), ScalarType.Float32, "open_clip_model.safetensors");
        AssertOutputs(model, ReferenceModels.Expected(name), "", Tolerance.Float32);
    }

    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void Float64OutputsMatchReference(string name)
    {
        using var model = Load(ReferenceModels.Folder(name), ScalarType.Float64, "open_clip_model.safetensors");
        AssertOutputs(model, ReferenceModels.Expected(name), "_f64", Tolerance.Float64);
    }

    [Theory]
    [MemberData(nameof(ReferenceModels.AllWithPickle), MemberType = typeof(ReferenceModels))]
    public void PytorchBinGivesTheSameOutputs(string name)
    {
        string bin = System.IO.Path.Combine(ReferenceModels.Folder(name), "open_clip_pytorch_model.bin");
        using (var model = Load(bin, ScalarType.Float32, "open_clip_pytorch_model.bin"))
            AssertOutputs(model, ReferenceModels.Expected(name), "", Tolerance.Float32);
        using (var model = Load(bin, ScalarType.Float64, "open_clip_pytorch_model.bin"))
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
