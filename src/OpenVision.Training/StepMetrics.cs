namespace OpenVision.Training;

/// <summary>What one optimizer step measured; written as one JSON line to <c>metrics.jsonl</c>.</summary>
/// <param name="Step">Global optimizer step (1-based, after the update).</param>
/// <param name="Stage">Stage index.</param>
/// <param name="ImageSize">Stage resolution.</param>
/// <param name="Samples">Samples seen so far.</param>
/// <param name="Lr">Learning rate used for this step.</param>
/// <param name="Loss">Total loss (contrastive + weighted caption).</param>
/// <param name="Contrastive">Contrastive (InfoNCE) loss.</param>
/// <param name="Caption">Caption loss.</param>
/// <param name="Temperature">exp(logit_scale) after the step.</param>
/// <param name="SamplesPerSecond">Throughput of this step.</param>
/// <param name="ElapsedSeconds">Wall time since the run (or resume) started.</param>
/// <param name="CommunicationSeconds">Time rank 0 spent in collectives during this step (0 in one process).</param>
public sealed record StepMetrics(long Step, int Stage, int ImageSize, long Samples, double Lr, double Loss, double Contrastive,
    double Caption, double Temperature, double SamplesPerSecond, double ElapsedSeconds, double CommunicationSeconds = 0);

/// <summary>Progress of a run for a live line: the last step plus totals.</summary>
/// <param name="Last">The step just finished.</param>
/// <param name="TotalSteps">Steps in the whole run.</param>
/// <param name="EtaSeconds">Estimated seconds left at the current rates.</param>
public sealed record TrainingProgress(StepMetrics Last, long TotalSteps, double EtaSeconds);
