namespace OpenVision.Onnx;

/// <summary>An export was written but failed validation: ONNX Runtime's outputs are not the TorchSharp model's.</summary>
public sealed class OnnxExportException(string message) : Exception(message);
