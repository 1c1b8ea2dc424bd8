using OpenVision.Training.Evaluation.LinearModels;
using OpenVision.Vision;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Settings of a linear probe; the defaults follow CLIP / CLIP_benchmark (normalised features, λ chosen
/// on a 20 % validation split of the training set, then a refit on training + validation).</summary>
public sealed record LinearProbeOptions
{
    /// <summary>λ values to try (mean cross-entropy + λ/2·‖W‖²); default 10⁻⁶ … 10² one per decade.</summary>
    public IReadOnlyList<double> L2Grid { get; init; } = L2Sweep.LogGrid();

    /// <summary>Fraction of each class's training samples held out to choose λ.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>λ used when no validation split can be carved (every class has a single sample, e.g. 1-shot).</summary>
    public double FallbackL2 { get; init; } = 1e-2;

    /// <summary>Few-shot: train on k samples per class (drawn with <see cref="Seed"/>); null uses every sample.</summary>
    public int? KShot { get; init; }

    /// <summary>Seed of the few-shot draw and the validation split.</summary>
    public int Seed { get; init; }

    /// <summary>L2-normalise features before the probe (CLIP_benchmark's default).</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Also standardise each feature dimension (mean 0, variance 1 over the training samples in use) after
    /// normalising: not part of CLIP's protocol, but it makes λ scale-free and often helps weak features.</summary>
    public bool Standardize { get; init; }

    /// <summary>Element type of the fit; float64 makes the optimum reproducible to the last digits.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float64;

    /// <summary>Device of the fit (features are moved there); null is the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>L-BFGS stopping rules.</summary>
    public LbfgsOptions Solver { get; init; } = new();

    /// <summary>Resize mode; null follows the model's config.</summary>
    public ResizeMode? Resize { get; init; }

    /// <summary>Images per model call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Feature cache folder; null encodes every time.</summary>
    public string? CacheFolder { get; init; }

    /// <summary>Receives progress of feature extraction and of the sweep.</summary>
    public IProgress<EvaluationProgress>? Progress { get; init; }

    /// <summary>Evaluator name (metric prefix); null uses "&lt;dataset&gt;-linear-probe".</summary>
    public string? Name { get; init; }
}
