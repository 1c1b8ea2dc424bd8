using OpenVision.Vision;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>An <see cref="OpenVisionEncoder"/> as the evaluators see it. The caller keeps ownership of the encoder.</summary>
public sealed class OpenVisionImageTextEncoder(OpenVisionEncoder encoder, int textBatchSize = 256) : IEvaluationEncoder
{
    /// <summary>The wrapped encoder.</summary>
    public OpenVisionEncoder Encoder { get; } = encoder ?? throw new ArgumentNullException(nameof(encoder));

    /// <inheritdoc/>
    public string ModelName => Encoder.Model.Config.Name;

    /// <inheritdoc/>
    public string Pretrained => Encoder.Source.WeightsPath ?? "random-init";

    /// <inheritdoc/>
    public string? CacheIdentity
    {
        get
        {
            // Random weights differ on every load, so their features are never reused.
            if (Encoder.Source.WeightsPath is not { } weights || !File.Exists(weights)) return null;
            var file = new FileInfo(weights);
            return $"{Encoder.Source.Reference}|{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}|{Encoder.Model.DType}|{Encoder.ImageSize}";
        }
    }

    /// <inheritdoc/>
    public ImageTransformOptions TransformOptions => Encoder.Transform.Options;

    /// <inheritdoc/>
    public Tensor EncodeImages(PixelBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Encoder.Model.EncodeImage(batch.Pixels, normalize: false);
    }

    /// <inheritdoc/>
    public Tensor EncodeTexts(IReadOnlyList<string> texts) => Encoder.EncodeTexts(texts, normalize: false, batchSize: textBatchSize);
}
