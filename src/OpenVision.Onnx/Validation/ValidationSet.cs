using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Validation;

/// <summary>Inputs an export is checked on, with the TorchSharp model's outputs for them.</summary>
internal sealed class ValidationSet
{
    /// <summary>Images per size: the input and the TorchSharp features (not normalized).</summary>
    public required IReadOnlyList<(int Size, float[] Pixels, long[] Shape, float[] Expected)> Images { get; init; }

    public required long[] TokenIds { get; init; }

    public required long[] TokenShape { get; init; }

    public required float[] ExpectedText { get; init; }

    /// <summary>Images and label prompts for the zero-shot agreement of reduced precisions.</summary>
    public required (float[] Pixels, long[] Shape) AgreementImages { get; init; }

    public required (long[] Ids, long[] Shape) AgreementLabels { get; init; }

    public const string AgreementDescription = "32 seeded random-normal images x 16 labels ('a photo of a {dog, cat, car, ...}.'), at the export's image size";

    private static readonly string[] Nouns =
        ["dog", "cat", "car", "bicycle", "teapot", "guitar", "lamp", "shoe", "clock", "tree", "house", "boat", "bird", "pizza", "chair", "phone"];

    public static ValidationSet Create(OpenVisionModel model, OnnxExportOptions options, IReadOnlyList<int> sizes)
    {
        using var scope = NewDisposeScope();
        var tokenizer = OpenVisionEncoder.CreateTokenizer(model.Config);
        var images = new List<(int, float[], long[], float[])>();
        foreach (int size in sizes)
        {
            var pixels = options.ValidationPixels is { } given && given.shape[^1] == size
                ? given.to(ScalarType.Float32).cpu()
                : randn(3, 3, size, size, generator: new Generator(0));
            if (pixels.ndim != 4 || pixels.shape[1] != 3 || pixels.shape[2] != size || pixels.shape[3] != size)
                throw new ArgumentException($"validation pixels must be [N, 3, {size}, {size}], got [{string.Join(", ", pixels.shape)}]");
            images.Add((size, ToArray(pixels), pixels.shape, ToArray(model.EncodeImage(pixels))));
        }
        var ids = options.ValidationTokenIds?.cpu() ?? tensor(tokenizer.EncodeBatch(options.ValidationTexts));
        if (ids.dtype != ScalarType.Int64 || ids.ndim != 2) throw new ArgumentException("validation token ids must be a 2-D int64 tensor");
        var agreementPixels = randn(32, 3, sizes[0], sizes[0], generator: new Generator(1));
        var labels = tensor(tokenizer.EncodeBatch(Nouns.Select(n => $"a photo of a {n}.").ToList()));
        return new ValidationSet
        {
            Images = images,
            TokenIds = ids.data<long>().ToArray(),
            TokenShape = ids.shape,
            ExpectedText = ToArray(model.EncodeText(ids)),
            AgreementImages = (ToArray(agreementPixels), agreementPixels.shape),
            AgreementLabels = (labels.data<long>().ToArray(), labels.shape),
        };
    }

    public static float[] ToArray(Tensor t)
    {
        using var f = t.detach().to(ScalarType.Float32).cpu().contiguous();
        return f.data<float>().ToArray();
    }

    /// <summary>The parity measure used throughout the project: max |actual − expected| / max |expected|.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"{actual.Length} values vs {expected.Length} expected");
        double diff = 0, scale = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return double.IsNaN(diff) || actual.ToArray().Any(float.IsNaN) ? double.NaN : diff / Math.Max(scale, 1e-30);
    }
}
