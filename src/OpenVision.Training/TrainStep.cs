using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Models;
using OpenVision.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training;

/// <summary>One optimizer step of the recipe, from batches to updated parameters: set the learning rate, zero the
/// gradients, read the step's micro-batches, backpropagate the whole batch's losses (<see cref="TrainingModel.Backward"/>),
/// average gradients over the ranks, and let AdamW step.</summary>
/// <param name="model">The model, in training mode.</param>
/// <param name="optimizer">The stage's optimizer over the model's parameters.</param>
/// <param name="ranks">The ranks; <see cref="SingleProcessContext"/> for one process.</param>
/// <param name="gradientAccumulation">Micro-batches per step.</param>
public sealed class TrainStep(TrainingModel model, OptimizerHelper optimizer, IDistributedContext ranks, int gradientAccumulation)
{
    private readonly List<Parameter> trainable = [.. model.NamedParameters().Select(p => p.Parameter).Where(p => p.requires_grad)];

    /// <summary>Runs one step on the next <c>gradientAccumulation</c> micro-batches of <paramref name="batches"/>.</summary>
    /// <param name="batches">This rank's share of the global micro-batches.</param>
    /// <param name="learningRate">The schedule's rate for this step.</param>
    /// <param name="cancellationToken">Read once the gradients are in; with several ranks, any rank's request stops all.</param>
    /// <returns>The step's losses (averaged over ranks), the data position after it and whether to stop.</returns>
    public TrainStepResult Run(IEnumerator<TrainingBatch> batches, double learningRate, CancellationToken cancellationToken = default) =>
        Run(batches, learningRate, TrainStepContext.Default, cancellationToken);

    /// <summary>Runs one step as <see cref="Run(IEnumerator{TrainingBatch}, double, CancellationToken)"/> does, with the
    /// step's index, seed and stage settings for objectives that draw at random (the caption-only token subsets).</summary>
    public TrainStepResult Run(IEnumerator<TrainingBatch> batches, double learningRate, TrainStepContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        OptimizerSteps.SetLearningRate(optimizer, learningRate);
        OptimizerSteps.ZeroGrad(optimizer);
        var microBatches = new List<TrainingBatch>(gradientAccumulation);
        double contrastive, caption, total;
        DataPosition position;
        // No collection while the step's operators run in native code (see CollectorPause).
        using var collectorPause = Native.CollectorPause.Begin();
        try
        {
            for (int m = 0; m < gradientAccumulation; m++)
            {
                if (!batches.MoveNext()) throw new InvalidOperationException("the training data stream ended early");
                microBatches.Add(batches.Current);
            }
            position = microBatches[^1].Position;
            (contrastive, caption, total) = model.Backward(microBatches, ranks, context);
        }
        finally
        {
            microBatches.ForEach(b => b.Dispose());
        }
        bool stop = cancellationToken.IsCancellationRequested;
        if (ranks.WorldSize > 1) (contrastive, caption, total, stop) = AverageOverRanks(contrastive, caption, total, stop);
        using (var scope = NewDisposeScope()) optimizer.step();
        collectorPause.Dispose();   // the collector catches up now, before the caller's metrics and checkpoint I/O
        return new TrainStepResult(contrastive, caption, total, position, stop);
    }

    // Averages gradients (bucketed) and the logged losses over ranks; a stop on any rank stops all of them. A
    // parameter no rank used still gets a zero gradient, so every rank's buckets have the same layout.
    private (double Contrastive, double Caption, double Total, bool Stop) AverageOverRanks(double contrastive, double caption, double total, bool stop)
    {
        using (var scope = NewDisposeScope())
        {
            foreach (var p in trainable)
                if (p.grad is null) p.grad = torch.zeros_like(p);
            ranks.AllReduceMean(trainable.Select(p => p.grad!).ToList());
        }
        Span<double> values = [contrastive, caption, total, stop ? 1 : 0];
        ranks.AllReduceSum(values);
        int n = ranks.WorldSize;
        return (values[0] / n, values[1] / n, values[2] / n, values[3] > 0);
    }
}
