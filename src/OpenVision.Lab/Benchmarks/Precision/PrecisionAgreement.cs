using OpenVision.Onnx;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks.Precision;

/// <summary>Zero-shot top-1 agreement of reduced precisions with float32 on real, labelled images through the
/// evaluation harness (<see cref="ZeroShotEvaluator"/>): float32 TorchSharp is the reference, then bfloat16 TorchSharp,
/// float32 ONNX Runtime and int8 ONNX Runtime (dynamic quantisation) each classify the same images with their own text
/// tower, and the share of images with the same top-1 class is counted.</summary>
public static class PrecisionAgreement
{
    /// <summary>The variants compared, in order; the first is the reference.</summary>
    public static IReadOnlyList<string> Variants { get; } = ["fp32 (TorchSharp)", "bf16 (TorchSharp)", "fp32 (ONNX Runtime)", "int8 (ONNX Runtime)"];

    /// <summary>Runs every variant on <paramref name="source"/> (read once per variant) and compares with the first.</summary>
    /// <param name="model">A model with trained weights (folder, checkpoint or hf-hub:); agreement on random weights says little.</param>
    /// <param name="source">Labelled images.</param>
    /// <param name="options">Zero-shot settings (templates, batch size).</param>
    /// <param name="lines">Receives one line per variant as it finishes.</param>
    public static IReadOnlyList<PrecisionAgreementRow> Run(string model, ILabeledImageSource source, ZeroShotOptions options, IProgress<string>? lines = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var rows = new List<PrecisionAgreementRow>();
        IReadOnlyList<int>? reference = null;
        foreach (string variant in Variants)
        {
            using var encoder = Open(model, variant);
            var report = new ZeroShotEvaluator(source, options).Evaluate(encoder);
            reference ??= report.Predictions;
            var row = new PrecisionAgreementRow(variant, report.Top1, Agreement(reference, report.Predictions, variant), report.Predictions.Count,
                report.Throughput?.ImagesPerSecond ?? double.NaN);
            rows.Add(row);
            lines?.Report($"{row.Variant,-22} top-1 {row.Top1:P2}  agreement with fp32 {row.Agreement:P2} ({row.Samples} images)  {row.ImagesPerSecond:F1} images/s");
        }
        return rows;
    }

    /// <summary>Fraction of positions where the two prediction lists agree.</summary>
    /// <exception cref="InvalidDataException">The lists have different lengths (a variant skipped other images).</exception>
    public static double Agreement(IReadOnlyList<int> reference, IReadOnlyList<int> predictions, string variant = "variant")
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(predictions);
        if (reference.Count != predictions.Count)
            throw new InvalidDataException($"{variant} classified {predictions.Count} images, float32 {reference.Count}: not the same images");
        if (reference.Count == 0) throw new InvalidDataException($"{variant}: no images classified");
        int same = 0;
        for (int i = 0; i < reference.Count; i++) if (reference[i] == predictions[i]) same++;
        return (double)same / reference.Count;
    }

    private static OpenVisionEncoder Open(string model, string variant) => variant switch
    {
        "fp32 (TorchSharp)" => OpenVisionEncoder.Load(model),
        "bf16 (TorchSharp)" => OpenVisionEncoder.Load(model, new ModelLoadOptions { DType = ScalarType.BFloat16 }),
        "fp32 (ONNX Runtime)" => OnnxExportCache.Open(model, runtime: new OnnxRuntimeOptions { Precision = OnnxPrecision.Float32 }),
        "int8 (ONNX Runtime)" => OnnxExportCache.Open(model, runtime: new OnnxRuntimeOptions { Precision = OnnxPrecision.Int8 }),
        _ => throw new ArgumentException($"unknown variant '{variant}'"),
    };
}
