using static TorchSharp.torch;

namespace OpenVision;

/// <summary>Runtime settings for <c>ModelFactory.Load</c>; not serialized.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Element type of the loaded model (float32 by default; float64 for exact parity work).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Device to place the model on; null means CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Refuse checkpoints with missing, unexpected or mis-shaped tensors (default true).</summary>
    public bool Strict { get; init; } = true;

    /// <summary>Allow a model without weights (random initialisation) when the reference names only a config.</summary>
    public bool RandomInit { get; init; }
}
