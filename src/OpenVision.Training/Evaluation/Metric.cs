namespace OpenVision.Training.Evaluation;

/// <summary>One number an evaluator produced, big_vision's <c>(name, value)</c> pair: ("acc1", 0.712).</summary>
/// <param name="Name">Metric name in CLIP_benchmark's vocabulary where one exists (acc1, text_retrieval_recall@5, lp_acc1).</param>
/// <param name="Value">The value; accuracies and recalls are fractions in [0, 1].</param>
public readonly record struct Metric(string Name, double Value);
