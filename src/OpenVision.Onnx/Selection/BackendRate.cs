namespace OpenVision.Onnx.Selection;

/// <summary>One batch size of a <see cref="BackendChoice"/>: both backends' measured encode_image rates.</summary>
/// <param name="BatchSize">Images per call.</param>
/// <param name="TorchImagesPerSecond">TorchSharp, median of the timed calls.</param>
/// <param name="OnnxImagesPerSecond">ONNX Runtime, median of the timed calls (alternating with TorchSharp).</param>
public sealed record BackendRate(int BatchSize, double TorchImagesPerSecond, double OnnxImagesPerSecond)
{
    /// <summary>True when ONNX Runtime was faster; a tie goes to TorchSharp (every detailed output, any resolution).</summary>
    public bool OnnxWins => OnnxImagesPerSecond > TorchImagesPerSecond;
}
