using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Distributed;

/// <summary><see cref="IDistributedContext"/> over any <see cref="ICollectives"/> (Open MPI in practice): bucketed
/// gradient averaging, parameter broadcast, a differentiable all-gather, communication timing and a watchdog that
/// aborts the job when a collective hangs.</summary>
/// <remarks>Tensors on an accelerator are staged through host memory: correct everywhere, and the place to plug in
/// CUDA-aware MPI or NCCL later. Only float32 and float64 tensors travel.</remarks>
public sealed class CollectiveContext : IDistributedContext
{
    private readonly ICollectives collectives;
    private readonly DistributedOptions options;
    private readonly CollectiveWatchdog watchdog;
    private long communicationTicks;
    private bool disposed;

    /// <summary>Wraps <paramref name="collectives"/>, which this context then owns (disposing it finalises MPI).</summary>
    public CollectiveContext(ICollectives collectives, DistributedOptions? options = null)
    {
        this.collectives = collectives;
        this.options = options ?? new DistributedOptions();
        watchdog = new CollectiveWatchdog(this.options.CollectiveTimeout, OnTimeout);
    }

    /// <inheritdoc/>
    public int Rank => collectives.Rank;

    /// <inheritdoc/>
    public int WorldSize => collectives.Size;

    /// <inheritdoc/>
    public TimeSpan CommunicationTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref communicationTicks));

    /// <inheritdoc/>
    public void AllReduceMean(IReadOnlyList<Tensor> tensors)
    {
        foreach (var bucket in TensorBuffers.Buckets(tensors, options.BucketBytes))
        {
            using var flat = TensorBuffers.Pack(bucket);
            Timed("all-reduce", () => SumInPlace(flat));
            TensorBuffers.Unpack(flat, bucket, 1.0 / WorldSize);
        }
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values)
    {
        long start = Stopwatch.GetTimestamp();
        watchdog.Enter("all-reduce of scalars");
        try { collectives.AllReduceSum(values); }
        finally { Done(start); }
    }

    /// <inheritdoc/>
    public Tensor AllGather(Tensor local) => AllGatherFunction.apply(local, this);

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors)
    {
        foreach (var bucket in TensorBuffers.Buckets(tensors, options.BucketBytes))
        {
            using var flat = TensorBuffers.Pack(bucket);
            Timed("broadcast", () =>
            {
                if (flat.dtype == ScalarType.Float32) collectives.Broadcast(TensorBuffers.Span<float>(flat), root: 0);
                else if (flat.dtype == ScalarType.Float64) collectives.Broadcast(TensorBuffers.Span<double>(flat), root: 0);
                else throw Unsupported(flat);
            });
            TensorBuffers.Unpack(flat, bucket);
        }
    }

    /// <inheritdoc/>
    public void Barrier() => Timed("barrier", collectives.Barrier);

    /// <inheritdoc/>
    public void Abort(int errorCode) => collectives.Abort(errorCode);

    /// <summary>[b, …] on every rank → [WorldSize·b, …], without autograd.</summary>
    internal Tensor GatherRaw(Tensor local)
    {
        using var scope = NewDisposeScope();
        var send = local.detach().cpu().contiguous();
        var shape = local.shape.ToArray();
        shape[0] *= WorldSize;
        var all = torch.empty(shape, send.dtype);
        Timed("all-gather", () =>
        {
            if (send.dtype == ScalarType.Float32) collectives.AllGather<float>(TensorBuffers.Span<float>(send), TensorBuffers.Span<float>(all));
            else if (send.dtype == ScalarType.Float64) collectives.AllGather<double>(TensorBuffers.Span<double>(send), TensorBuffers.Span<double>(all));
            else throw Unsupported(send);
        });
        return all.to(local.device).MoveToOuterDisposeScope();
    }

    /// <summary>[WorldSize·b, …] on every rank, summed over ranks → this rank's block [b, …] (all-gather's adjoint).</summary>
    internal Tensor ReduceScatterRaw(Tensor all)
    {
        using var scope = NewDisposeScope();
        var send = all.detach().cpu().contiguous();
        var shape = all.shape.ToArray();
        shape[0] /= WorldSize;
        var local = torch.empty(shape, send.dtype);
        Timed("reduce-scatter", () =>
        {
            if (send.dtype == ScalarType.Float32) collectives.ReduceScatterSum<float>(TensorBuffers.Span<float>(send), TensorBuffers.Span<float>(local));
            else if (send.dtype == ScalarType.Float64) collectives.ReduceScatterSum<double>(TensorBuffers.Span<double>(send), TensorBuffers.Span<double>(local));
            else throw Unsupported(send);
        });
        return local.to(all.device).MoveToOuterDisposeScope();
    }

    private void SumInPlace(Tensor flat)
    {
        if (flat.dtype == ScalarType.Float32) collectives.AllReduceSum(TensorBuffers.Span<float>(flat));
        else if (flat.dtype == ScalarType.Float64) collectives.AllReduceSum(TensorBuffers.Span<double>(flat));
        else throw Unsupported(flat);
    }

    private static NotSupportedException Unsupported(Tensor t) => new($"collectives carry float32 and float64 tensors, not {t.dtype}");

    private void Timed(string operation, Action action)
    {
        long start = Stopwatch.GetTimestamp();
        watchdog.Enter(operation);
        try { action(); }
        finally { Done(start); }
    }

    private void Done(long start)
    {
        watchdog.Exit();
        Interlocked.Add(ref communicationTicks, Stopwatch.GetTimestamp() - start);
    }

    private void OnTimeout(string operation, TimeSpan elapsed)
    {
        options.OnTimeout?.Invoke($"rank {Rank}: {operation} has not completed after {elapsed.TotalSeconds:F0} s " +
            $"(timeout {options.CollectiveTimeout.TotalSeconds:F0} s); another rank is hung or unreachable, aborting the job");
        collectives.Abort(options.TimeoutExitCode);
    }

    /// <summary>Finalises the collectives (MPI_Finalize, which waits for every rank; the watchdog still guards it).</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        try { Timed("finalize", collectives.Dispose); }
        finally { watchdog.Dispose(); }
    }
}
