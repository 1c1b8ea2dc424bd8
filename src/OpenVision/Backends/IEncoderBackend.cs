using OpenVision.Configs;
using OpenVision.Models;
using static TorchSharp.torch;

namespace OpenVision.Backends;

/// <summary>What runs a model: pixels in, image features out; token ids in, text features out; and, where the backend
/// can, the detailed image outputs (patch tokens, block outputs). Tokenizing, preprocessing and batching live in
/// <see cref="OpenVisionEncoder"/>, once for every backend. Results are tensors the caller disposes.</summary>
public interface IEncoderBackend : IDisposable
{
    /// <summary>The architecture and preprocessing.</summary>
    ModelConfig Config { get; }

    /// <summary>Where the model came from (reference, config and weights paths).</summary>
    ModelSource Source { get; }

    /// <summary>Input resolution in pixels the backend runs at.</summary>
    int ImageSize { get; }

    /// <summary>exp(logit_scale): the factor applied to cosine similarities.</summary>
    double LogitScale { get; }

    /// <summary>Whether the model has a text tower (<see cref="EncodeText"/> works).</summary>
    bool HasTextTower { get; }

    /// <summary>Which detailed image outputs <see cref="EncodeImageDetailed"/> can give.</summary>
    DetailedImageOutputs DetailedOutputs { get; }

    /// <summary>The element type pixels are handed over in (float32 for a bfloat16 model, which rounds them itself).</summary>
    ScalarType PixelDType { get; }

    /// <summary>A string that changes whenever the features would (weights, precision); null when features must not be
    /// cached, e.g. for randomly initialised weights.</summary>
    string? FeatureIdentity { get; }

    /// <summary>Image features [N, E] for normalized pixels [N, 3, S, S].</summary>
    Tensor EncodeImage(Tensor pixels, bool normalize);

    /// <summary>Text features [N, E] for token ids [N, context_length] (int64).</summary>
    Tensor EncodeText(Tensor tokenIds, bool normalize);

    /// <summary>Image features with last-block patch tokens and the outputs of the given blocks.</summary>
    /// <param name="pixels">[N, 3, S, S] normalized images.</param>
    /// <param name="layers">Block indices, negative from the end; empty for none.</param>
    /// <param name="normalize">L2-normalize the pooled features.</param>
    /// <exception cref="NotSupportedException">The backend cannot give what was asked (see <see cref="DetailedOutputs"/>).</exception>
    ImageEncoding EncodeImageDetailed(Tensor pixels, IReadOnlyList<int> layers, bool normalize);

    /// <summary>Maps a possibly negative block index to 0-based; throws when out of range or when block outputs are
    /// not available.</summary>
    int ResolveLayer(int layer);
}
