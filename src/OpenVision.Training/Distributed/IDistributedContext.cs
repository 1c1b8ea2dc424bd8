using static TorchSharp.torch;

namespace OpenVision.Training.Distributed;

/// <summary>The processes of a data-parallel run, seen from one of them: who it is, and the tensor collectives
/// training needs (gradient averaging, parameter broadcast, a feature gather that gradients flow back through).</summary>
/// <remarks>Every rank must make the same calls in the same order. <see cref="SingleProcessContext"/> is the
/// one-process case; <see cref="CollectiveContext"/> runs on any <see cref="ICollectives"/> (Open MPI in practice);
/// <see cref="DistributedContext.FromEnvironment"/> picks one.</remarks>
public interface IDistributedContext : IDisposable
{
    /// <summary>This process's rank, 0 … <see cref="WorldSize"/> − 1. Rank 0 writes checkpoints and logs.</summary>
    int Rank { get; }

    /// <summary>Number of processes.</summary>
    int WorldSize { get; }

    /// <summary>Replaces each tensor with its element-wise mean over ranks, in buckets of a few MiB (float32 or
    /// float64; tensors may be on any device and of any shape).</summary>
    void AllReduceMean(IReadOnlyList<Tensor> tensors);

    /// <summary>Replaces each value with its sum over ranks.</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>Concatenates every rank's <paramref name="local"/> [b, …] (the same shape on every rank) along dim 0
    /// in rank order: [WorldSize·b, …]. Differentiable: the gradient of the result is summed over ranks and each
    /// rank's slice flows back into its <paramref name="local"/> (torch.distributed.nn.all_gather).</summary>
    Tensor AllGather(Tensor local);

    /// <summary>Overwrites each tensor with rank 0's values (in place, without autograd).</summary>
    void Broadcast(IReadOnlyList<Tensor> tensors);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the job with <paramref name="errorCode"/> (use after an exception on one rank,
    /// so the others do not wait for it); does not return.</summary>
    void Abort(int errorCode);

    /// <summary>Wall time spent inside collectives by this rank (including waiting for slower ranks).</summary>
    TimeSpan CommunicationTime { get; }
}
