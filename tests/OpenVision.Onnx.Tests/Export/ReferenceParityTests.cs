using Microsoft.ML.OnnxRuntime;
using OpenVision.Tests.Parity;
using TorchSharp;

namespace OpenVision.Onnx.Tests.Export;

/// <summary>Every reference model, exported, run in a plain ONNX Runtime session on the reference inputs, gives the
/// reference implementation's outputs: parity measured against the Python reference, not only against ourselves.</summary>
public class ReferenceParityTests
{
    [Theory]
    [MemberData(nameof(ReferenceModels.All), MemberType = typeof(ReferenceModels))]
    public void Float32GraphsReproduceTheReferenceOutputs(string name)
    {
        var (folder, _) = Exports.Reference(name);
        var expected = ReferenceModels.Expected(name);
        using var pixels = expected["pixels"].ToTorch();
        using var ids = expected["text_ids"].ToTorch();

        var (image, tokens) = Run(Path.Combine(folder, "vision.onnx"), "pixels", OrtValue.CreateTensorValueFromMemory(pixels.data<float>().ToArray(), pixels.shape), "image_features", "image_tokens");
        var (text, _) = Run(Path.Combine(folder, "text.onnx"), "token_ids", OrtValue.CreateTensorValueFromMemory(ids.data<long>().ToArray(), ids.shape), "text_features", null);

        using var expectedImage = expected["image_features"].ToTorch();
        using var expectedTokens = expected["image_tokens"].ToTorch();
        using var expectedText = expected["text_features"].ToTorch();
        Assert.True(Error(image, expectedImage) <= Tolerance.Float32, $"image_features: {Error(image, expectedImage):E3}");
        Assert.True(Error(tokens!, expectedTokens) <= Tolerance.Float32, $"image_tokens: {Error(tokens!, expectedTokens):E3}");
        Assert.True(Error(text, expectedText) <= Tolerance.Float32, $"text_features: {Error(text, expectedText):E3}");
    }

    private static (float[], float[]?) Run(string path, string inputName, OrtValue input, string output, string? second)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(path, options);
        using (input)
        {
            string[] outputs = second is null ? [output] : [output, second];
            using var results = session.Run(new RunOptions(), [inputName], [input], outputs);
            return (results[0].GetTensorDataAsSpan<float>().ToArray(), second is null ? null : results[1].GetTensorDataAsSpan<float>().ToArray());
        }
    }

    private static double Error(float[] actual, torch.Tensor expected)
    {
        var e = expected.data<float>().ToArray();
        Assert.Equal(e.Length, actual.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < e.Length; i++) { diff = Math.Max(diff, Math.Abs(actual[i] - e[i])); scale = Math.Max(scale, Math.Abs(e[i])); }
        return diff / scale;
    }
}
