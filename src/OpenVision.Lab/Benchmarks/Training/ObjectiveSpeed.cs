namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>Step speed and memory of one objective in one setting.</summary>
/// <param name="Setting">The setting's name.</param>
/// <param name="Variant">The objective's name.</param>
/// <param name="StepMs">Median training step (forward, backward, AdamW update) over every timed step.</param>
/// <param name="StepMsLow">Lowest per-repeat median.</param>
/// <param name="StepMsHigh">Highest per-repeat median.</param>
/// <param name="SamplesPerSecond">Batch size / median step.</param>
/// <param name="PeakRssMiB">Largest rise of the process's peak resident set (VmHWM) over its resident set before the
/// block (model creation included), over the repeats.</param>
/// <param name="Parameters">Trainable parameters.</param>
public sealed record ObjectiveSpeed(string Setting, string Variant, double StepMs, double StepMsLow, double StepMsHigh, double SamplesPerSecond,
    long PeakRssMiB, long Parameters);
