using OpenVision.Checkpoints;
using OpenVision.Models;
using OpenVision.Tests.Fixtures;
using Xunit.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>Vision-only (OpenVision 2 layout) folders reproduce what the reference's
/// <c>create_vision_encoder_and_transforms</c> computed on them (Fixtures/ov2/make_ov2_reference.py).</summary>
public class VisionOnlyParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Minis => new(["ov2-mini-a", "ov2-mini-b"]);

    private static string Folder(string name) => TestFiles.Fixture("ov2", name);

    private static Dictionary<string, TensorData> Expected(string name) =>
        SafetensorsFile.Read(Path.Combine(Folder(name), "expected.safetensors"));

    [Theory]
    [MemberData(nameof(Minis))]
    public void Float32MatchesReference(string name)
    {
        var (model, source) = ModelFactory.Load(Folder(name), new ModelLoadOptions { DType = ScalarType.Float32 });
        using (model)
        {
            Assert.Equal("open_clip_pytorch_model.bin", Path.GetFileName(source.WeightsPath));
            AssertOutputs(model, Expected(name), "", Tolerance.Float32);
        }
    }

    [Theory]
    [MemberData(nameof(Minis))]
    public void Float64MatchesReference(string name)
    {
        var (model, _) = ModelFactory.Load(Folder(name), new ModelLoadOptions { DType = ScalarType.Float64 });
        using (model) AssertOutputs(model, Expected(name), "_f64", Tolerance.Float64);
    }

    // The released repos ship only the .bin; a safetensors copy in the same layout must load to the same numbers.
    [Fact]
    public void SafetensorsInTheReleaseLayoutLoadsToo()
    {
        using var temp = TestFiles.NewTempFolder();
        File.Copy(Path.Combine(Folder("ov2-mini-b"), ModelFiles.Config), temp.Path(ModelFiles.Config));
        var released = StateDictReader.Read(Path.Combine(Folder("ov2-mini-b"), "open_clip_pytorch_model.bin"));
        Assert.DoesNotContain(released.Keys, k => k.StartsWith("visual.", StringComparison.Ordinal));
        SafetensorsFile.Write(temp.Path("open_clip_model.safetensors"), released, new Dictionary<string, string> { ["format"] = "pt" });
        var (model, _) = ModelFactory.Load(temp.Root, new ModelLoadOptions { DType = ScalarType.Float64 });
        using (model) AssertOutputs(model, Expected("ov2-mini-b"), "_f64", Tolerance.Float64);
    }

    // Negative control: the same comparison fails when one tensor is off, so the tests above can fail.
    [Fact]
    public void APerturbedWeightIsDetected()
    {
        var (model, _) = ModelFactory.Load(Folder("ov2-mini-a"), new ModelLoadOptions { DType = ScalarType.Float64 });
        using (model)
        {
            using (torch.no_grad()) model.state_dict()["visual.transformer.resblocks.1.mlp.c_fc.bias"].add_(1e-6);
            var expected = Expected("ov2-mini-a");
            using var pixels = expected["pixels"].ToTorch().to(ScalarType.Float64);
            using var image = model.EncodeImageDetailed(pixels);
            using var reference = expected["image_features_f64"].ToTorch();
            Assert.True(Tolerance.RelativeError(image.Features, reference) > Tolerance.Float64);
        }
    }

    private void AssertOutputs(OpenVisionModel model, Dictionary<string, TensorData> expected, string suffix, double bound)
    {
        using var scope = NewDisposeScope();
        var dtype = suffix == "_f64" ? ScalarType.Float64 : ScalarType.Float32;
        var pixels = expected["pixels"].ToTorch().to(dtype);
        using var image = model.EncodeImageDetailed(pixels, layers: [-1]);
        Assert.Equal(dtype, image.Features.dtype);
        output.WriteLine($"{model.Config.Name} {dtype}: features {Tolerance.RelativeError(image.Features, expected["image_features" + suffix].ToTorch()):E2}, tokens {Tolerance.RelativeError(image.Tokens, expected["image_tokens" + suffix].ToTorch()):E2}");
        Tolerance.AssertClose(image.Features, expected["image_features" + suffix].ToTorch(), bound, "image_features" + suffix);
        Tolerance.AssertClose(image.Tokens, expected["image_tokens" + suffix].ToTorch(), bound, "image_tokens" + suffix);
        // The last block's output is the tokens with the class token in front.
        Tolerance.AssertClose(image.Hidden[model.ResolveLayer(-1)][.., 1..], expected["image_tokens" + suffix].ToTorch(), bound, "hidden -1");
    }
}
