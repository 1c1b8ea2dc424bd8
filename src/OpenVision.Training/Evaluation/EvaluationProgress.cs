using OpenVision.Pipelines;

namespace OpenVision.Training.Evaluation;

/// <summary>Progress of one stage of an evaluation, for progress bars.</summary>
/// <param name="Stage">What is running: "images", "texts", "prompts", "train images", "l2 fits"…</param>
/// <param name="Report">Counts, rate and time left of that stage.</param>
public sealed record EvaluationProgress(string Stage, ProgressReport Report);
