using OpenVision.Onnx.Graph;
using OpenVision.Onnx.Runtime;

namespace OpenVision.Onnx.Validation;

/// <summary>Loads exported graphs in ONNX Runtime and measures them against the TorchSharp model's outputs.</summary>
internal static class ExportValidator
{
    /// <summary>Bounds the reduced precisions are held to (see the README's ONNX section for the measured values).</summary>
    public static double BoundFor(OnnxPrecision precision, double float32Bound) => precision switch
    {
        OnnxPrecision.Float32 => float32Bound,
        OnnxPrecision.Float16 => 1e-2,
        _ => 1e-1,
    };

    /// <summary>Top-1 labels per agreement image; used as the float32 baseline.</summary>
    public static int[] AgreementLabels(string folder, OnnxModelFiles files, ValidationSet set, OnnxRuntimeOptions runtime)
    {
        using var vision = new OnnxTower(Path.Combine(folder, files.Vision), runtime);
        using var text = new OnnxTower(Path.Combine(folder, files.Text), runtime);
        return Top1(vision, text, set);
    }

    public static OnnxValidation Validate(string folder, OnnxModelFiles files, ValidationSet set, OnnxRuntimeOptions runtime,
        double float32Bound, int[]? float32Labels)
    {
        using var vision = new OnnxTower(Path.Combine(folder, files.Vision), runtime);
        using var text = new OnnxTower(Path.Combine(folder, files.Text), runtime);
        double imageError = 0;
        foreach (var (_, pixels, shape, expected) in set.Images)
        {
            var actual = vision.Run(pixels, shape, [VisionGraph.FeaturesName])[0].Data;
            imageError = Math.Max(imageError, ValidationSet.RelativeError(actual, expected));
        }
        var textFeatures = text.Run(set.TokenIds, set.TokenShape, [TextGraph.FeaturesName])[0].Data;
        double textError = ValidationSet.RelativeError(textFeatures, set.ExpectedText);
        double? agreement = null;
        if (float32Labels is not null)
        {
            var labels = Top1(vision, text, set);
            agreement = labels.Zip(float32Labels).Count(p => p.First == p.Second) / (double)labels.Length;
        }
        return new OnnxValidation(files.Precision, (int)set.Images[0].Shape[0], (int)set.TokenShape[0], set.Images.Select(i => i.Size).ToList(),
            imageError, textError, BoundFor(files.Precision, float32Bound), agreement, agreement is null ? null : ValidationSet.AgreementDescription);
    }

    private static int[] Top1(OnnxTower vision, OnnxTower text, ValidationSet set)
    {
        var (pixels, pixelShape) = set.AgreementImages;
        var (ids, idShape) = set.AgreementLabels;
        var image = vision.Run(pixels, pixelShape, [VisionGraph.FeaturesName])[0];
        var labels = text.Run(ids, idShape, [TextGraph.FeaturesName])[0];
        int n = (int)image.Shape[0], m = (int)labels.Shape[0], e = (int)image.Shape[1];
        var top = new int[n];
        for (int i = 0; i < n; i++)
        {
            var row = image.Data.AsSpan(i * e, e);
            double best = double.NegativeInfinity;
            for (int j = 0; j < m; j++)
            {
                // The cosine similarity: the logit scale and the image norm do not change the argmax, the label norm does.
                var label = labels.Data.AsSpan(j * e, e);
                double dot = 0, norm = 0;
                for (int k = 0; k < e; k++) { dot += row[k] * label[k]; norm += label[k] * label[k]; }
                double score = dot / Math.Sqrt(Math.Max(norm, 1e-30));
                if (score > best) { best = score; top[i] = j; }
            }
        }
        return top;
    }
}
