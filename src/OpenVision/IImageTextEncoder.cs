using OpenVision.Configs;
using OpenVision.Text;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using static TorchSharp.torch;

namespace OpenVision;

/// <summary>Images and texts in, embeddings out, whatever runs the model: <see cref="OpenVisionEncoder"/> (TorchSharp) or
/// an ONNX Runtime backend. Results are float32 CPU tensors [N, E] that the caller disposes.</summary>
public interface IImageTextEncoder : IDisposable
{
    /// <summary>The architecture and preprocessing.</summary>
    ModelConfig Config { get; }

    /// <summary>The tokenizer the text tower expects.</summary>
    OpenVisionTokenizer Tokenizer { get; }

    /// <summary>The image transform the vision tower expects.</summary>
    ImageTransform Transform { get; }

    /// <summary>Input resolution in pixels.</summary>
    int ImageSize { get; }

    /// <summary>exp(logit_scale): the factor applied to cosine similarities.</summary>
    double LogitScale { get; }

    /// <summary>Image features [N, E] for normalized pixels [N, 3, S, S].</summary>
    Tensor EncodePixels(Tensor pixels, bool normalize = true);

    /// <summary>Text features [N, E] for token ids [N, context_length] (int64).</summary>
    Tensor EncodeTokenIds(Tensor tokenIds, bool normalize = true);

    /// <summary>Text embeddings [N, E], L2-normalized unless <paramref name="normalize"/> is false.</summary>
    Tensor EncodeTexts(IReadOnlyList<string> texts, bool normalize = true, int batchSize = 256);

    /// <summary>Image embeddings [N, E] for decoded images, L2-normalized unless <paramref name="normalize"/> is false.</summary>
    Tensor EncodeImages(IReadOnlyList<DecodedImage> images, bool normalize = true, int batchSize = 32);

    /// <summary>Image embeddings for image files; decoding errors name the file.</summary>
    Tensor EncodeImageFiles(IReadOnlyList<string> paths, bool normalize = true, int batchSize = 32);

    /// <summary>A zero-shot classifier over <paramref name="classNames"/> (templates filled with each name).</summary>
    ZeroShotClassifier CreateClassifier(IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null, bool canonicalize = false);
}
