using static TorchSharp.torch;

namespace OpenVision.Training.Distributed;

/// <summary>The one-process run: rank 0 of 1, where every collective is the identity.</summary>
public sealed class SingleProcessContext : IDistributedContext
{
    /// <summary>The shared instance (it holds no resources).</summary>
    public static SingleProcessContext Instance { get; } = new();

    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int WorldSize => 1;

    /// <inheritdoc/>
    public TimeSpan CommunicationTime => TimeSpan.Zero;

    /// <inheritdoc/>
    public void AllReduceMean(IReadOnlyList<Tensor> tensors) { }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values) { }

    /// <inheritdoc/>
    public Tensor AllGather(Tensor local) => local.alias();

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors) { }

    /// <inheritdoc/>
    public void Barrier() { }

    /// <inheritdoc/>
    public void Abort(int errorCode) => Environment.Exit(errorCode);

    /// <inheritdoc/>
    public void Dispose() { }
}
