using static TorchSharp.torch;

namespace OpenVision.Training.Optimization;

/// <summary>The per-step calls a training loop makes on a TorchSharp optimizer.</summary>
public static class OptimizerSteps
{
    /// <summary>Sets the learning rate of every parameter group (the scheduled lr for the coming step).</summary>
    public static void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }

    /// <summary>Zeroes every gradient, inside a dispose scope.</summary>
    /// <remarks>TorchSharp 0.107's <c>zero_grad</c> drops the handle that <c>zero_()</c> returns, one per parameter;
    /// outside a scope those handles stay live until the garbage collector finds them (measured: 89 per call on the
    /// tiny test model).</remarks>
    public static void ZeroGrad(optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
    }
}
