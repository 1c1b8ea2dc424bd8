namespace OpenVision.Training.Distributed;

/// <summary>Blocking collective operations over plain buffers among the processes of one job, in rank order.
/// Every process must make the same calls in the same order with the same counts, as MPI requires.</summary>
/// <remarks>Element types are <see cref="float"/>, <see cref="double"/>, <see cref="int"/>, <see cref="long"/> and
/// <see cref="byte"/>. <see cref="Mpi.MpiCollectives"/> implements this on Open MPI; tests can implement it in memory.</remarks>
public interface ICollectives : IDisposable
{
    /// <summary>This process's rank, 0 … <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>Number of processes in the job.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> with their element-wise sum over all processes.</summary>
    void AllReduceSum<T>(Span<T> values) where T : unmanaged;

    /// <summary>Replaces <paramref name="values"/> with their element-wise maximum over all processes.</summary>
    void AllReduceMax<T>(Span<T> values) where T : unmanaged;

    /// <summary>Concatenates every process's <paramref name="local"/> (all the same length) into <paramref name="all"/>, in rank order.</summary>
    void AllGather<T>(ReadOnlySpan<T> local, Span<T> all) where T : unmanaged;

    /// <summary>Concatenates every process's <paramref name="local"/> into <paramref name="all"/>, in rank order; process r sends <paramref name="counts"/>[r] elements.</summary>
    void AllGatherV<T>(ReadOnlySpan<T> local, Span<T> all, ReadOnlySpan<int> counts) where T : unmanaged;

    /// <summary>Sums <paramref name="all"/> (length <see cref="Size"/> × n) over processes and gives process r block r (length n) in <paramref name="local"/>.</summary>
    void ReduceScatterSum<T>(ReadOnlySpan<T> all, Span<T> local) where T : unmanaged;

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="values"/> to every process.</summary>
    void Broadcast<T>(Span<T> values, int root) where T : unmanaged;

    /// <summary>Returns once every process has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the job with <paramref name="errorCode"/>; does not return.</summary>
    void Abort(int errorCode);
}
