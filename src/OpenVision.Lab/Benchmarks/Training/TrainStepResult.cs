using System.Text.Json.Serialization;
using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>Figures of one <see cref="TrainStepBenchmark"/> run. Times are medians over the timed steps.</summary>
/// <param name="Model">Model name.</param>
/// <param name="BatchSize">Samples per step.</param>
/// <param name="ImageSize">Pixels per side.</param>
/// <param name="CaptionTokens">Decoder queries (caption length).</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="WarmupSteps">Untimed steps before them.</param>
/// <param name="Threads">Torch intra-op threads during the run.</param>
/// <param name="Parameters">Trainable and frozen parameters of the CLIP and the decoder.</param>
/// <param name="StepMs">Median milliseconds of a whole step.</param>
/// <param name="SamplesPerSecond">Batch size / median step time.</param>
/// <param name="ForwardMs">Median of the forward pass and losses.</param>
/// <param name="BackwardMs">Median of <c>backward()</c>.</param>
/// <param name="OptimizerMs">Median of the AdamW step and zeroing the gradients.</param>
/// <param name="FirstStepLosses">Total, contrastive and caption loss of the first step (the initial weights): the
/// figure the PyTorch reference must reproduce.</param>
/// <param name="TotalLosses">Total loss of every step, warm-up included (the same batch each time, so it falls).</param>
/// <param name="PeakWorkingSetMiB">The process's peak resident memory, runtime and libtorch included.</param>
public sealed record TrainStepResult(string Model, int BatchSize, int ImageSize, int CaptionTokens, int Steps, int WarmupSteps, int Threads,
    long Parameters, double StepMs, double SamplesPerSecond, double ForwardMs, double BackwardMs, double OptimizerMs,
    StepLosses FirstStepLosses, IReadOnlyList<double> TotalLosses, [property: JsonPropertyName("peak_working_set_mib")] long PeakWorkingSetMiB);

/// <summary>The three losses of one step.</summary>
/// <param name="Total">contrastive · w₁ + caption · w₂.</param>
/// <param name="Contrastive">InfoNCE averaged over both text sets.</param>
/// <param name="Caption">Token-mean caption cross-entropy.</param>
public sealed record StepLosses(double Total, double Contrastive, double Caption);

/// <summary>Reported after each step.</summary>
/// <param name="Step">1-based step, warm-up included.</param>
/// <param name="TotalSteps">Warm-up plus timed steps.</param>
/// <param name="Warmup">Whether the step is untimed.</param>
/// <param name="Milliseconds">The step's wall time.</param>
/// <param name="TotalLoss">The step's total loss.</param>
public sealed record TrainStepProgress(int Step, int TotalSteps, bool Warmup, double Milliseconds, double TotalLoss);
