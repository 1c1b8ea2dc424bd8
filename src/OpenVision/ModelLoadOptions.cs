using static TorchSharp.torch;

namespace OpenVision;

/// <summary>Runtime settings for <c>ModelFactory.Load</c>; not serialized.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Element type the loaded model computes in: float32 (default), float64 for exact parity work, or
    /// bfloat16, whose features differ from float32 by about 1e-2 relative and which is faster only where the CPU's
    /// bfloat16 dot products outrun its float32 FMAs (about 2x on AMD Zen 4/5; 0.6-0.8x on an Intel Xeon without AMX).
    /// The weights are converted after loading; a bfloat16 model still returns float32 tensors
    /// (<see cref="Models.OpenVisionModel.OutputDType"/>).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Device to place the model on; null means CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Refuse checkpoints with missing, unexpected or mis-shaped tensors (default true).</summary>
    public bool Strict { get; init; } = true;

    /// <summary>Load checkpoints whose floating-point weights hold NaN or infinite values. Off by default: such a model
    /// outputs NaN for every input, so the load fails with one line naming the file and the first offending tensors.</summary>
    public bool AllowNonFiniteWeights { get; init; }

    /// <summary>Allow a model without weights (random initialisation) when the reference names only a config.</summary>
    public bool RandomInit { get; init; }
}
