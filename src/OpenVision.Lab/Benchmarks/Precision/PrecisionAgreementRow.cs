namespace OpenVision.Lab.Benchmarks.Precision;

/// <summary>One precision's zero-shot run next to float32's on the same images.</summary>
/// <param name="Variant">What ran, e.g. "bf16 (TorchSharp)" or "int8 (ONNX Runtime)".</param>
/// <param name="Top1">Its zero-shot top-1 accuracy.</param>
/// <param name="Agreement">Fraction of images whose top-1 class equals float32 TorchSharp's (1 for the float32 row itself).</param>
/// <param name="Samples">Images compared.</param>
/// <param name="ImagesPerSecond">Rate of its image loop (decode, transform, image tower).</param>
public sealed record PrecisionAgreementRow(string Variant, double Top1, double Agreement, long Samples, double ImagesPerSecond);
