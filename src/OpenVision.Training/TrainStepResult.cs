using OpenVision.Training.Data;

namespace OpenVision.Training;

/// <summary>What one <see cref="TrainStep"/> did.</summary>
/// <param name="Contrastive">Contrastive loss of the global batch.</param>
/// <param name="Caption">Caption loss (token mean over the global batch).</param>
/// <param name="Total">The weighted total the gradients came from.</param>
/// <param name="Position">Where the data stream stands after the step's batches (for checkpoints).</param>
/// <param name="Stop">Cancellation was requested (on any rank): stop after this step.</param>
public sealed record TrainStepResult(double Contrastive, double Caption, double Total, DataPosition Position, bool Stop);
