using OpenVision.Vision;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>What the evaluators need from a model: image and text features and the image transform it expects.
/// <see cref="OpenVisionImageTextEncoder"/> wraps a real model; tests use fakes with hand-designed embeddings.</summary>
public interface IEvaluationEncoder
{
    /// <summary>The model's name, the "model" field of CLIP_benchmark results.</summary>
    string ModelName { get; }

    /// <summary>Where the weights came from, the "pretrained" field of CLIP_benchmark results.</summary>
    string Pretrained { get; }

    /// <summary>A string that changes whenever the features would (weights, dtype, resolution); null when the
    /// features must not be cached, e.g. for a randomly initialised model.</summary>
    string? CacheIdentity { get; }

    /// <summary>The evaluation transform the model's config prescribes; evaluators may change its resize mode.</summary>
    ImageTransformOptions TransformOptions { get; }

    /// <summary>Image features [N, E] for one batch (normalised or not: evaluators normalise).</summary>
    Tensor EncodeImages(PixelBatch batch);

    /// <summary>Text features [N, E] for raw texts (normalised or not: evaluators normalise).</summary>
    Tensor EncodeTexts(IReadOnlyList<string> texts);
}

/// <summary>A batch of transformed images and the keys of the samples they came from.</summary>
/// <param name="Keys">Sample keys (file paths, archive member names), one per image.</param>
/// <param name="Pixels">[N, 3, S, S] normalised float32 pixels.</param>
public sealed record PixelBatch(IReadOnlyList<string> Keys, Tensor Pixels);
