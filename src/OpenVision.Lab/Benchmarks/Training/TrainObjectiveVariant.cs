using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>One objective of the comparison.</summary>
/// <param name="Name">Name in the tables.</param>
/// <param name="Objective"><see cref="TrainConfig.ClipsObjective"/> or <see cref="TrainConfig.CaptioningObjective"/>.</param>
/// <param name="KeepRatio">Caption-only: fraction of patch tokens the decoder reads.</param>
public sealed record TrainObjectiveVariant(string Name, string Objective, double KeepRatio = 1.0)
{
    /// <summary>True for the caption-only objective.</summary>
    public bool IsCaptioning => Objective == TrainConfig.CaptioningObjective;

    /// <summary>CLIPS, then caption-only at keep ratios 1.0, 0.35 and 0.25.</summary>
    public static IReadOnlyList<TrainObjectiveVariant> All { get; } =
    [
        new("clips", TrainConfig.ClipsObjective),
        new("caption 1.00", TrainConfig.CaptioningObjective, 1.0),
        new("caption 0.35", TrainConfig.CaptioningObjective, 0.35),
        new("caption 0.25", TrainConfig.CaptioningObjective, 0.25),
    ];
}
