namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>What one objective reached in the same training time on Fashion-MNIST.</summary>
/// <param name="Variant">The objective's name.</param>
/// <param name="Steps">Optimizer steps trained.</param>
/// <param name="TrainingSeconds">Wall time of training.</param>
/// <param name="FinalLoss">Last step's total loss.</param>
/// <param name="LinearProbeTop1">Linear-probe top-1 on the test images.</param>
/// <param name="TenShotTop1">10-shot linear-probe top-1 on the test images.</param>
/// <param name="Captions">Greedy captions of the first test images (empty for an objective without a generator).</param>
public sealed record ObjectiveQuality(string Variant, int Steps, double TrainingSeconds, double FinalLoss, double LinearProbeTop1, double TenShotTop1,
    IReadOnlyList<string> Captions);
