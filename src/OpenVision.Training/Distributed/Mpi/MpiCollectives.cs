using System.Runtime.InteropServices;

namespace OpenVision.Training.Distributed.Mpi;

/// <summary><see cref="ICollectives"/> on MPI_COMM_WORLD of the system's Open MPI: initialises MPI (thread level
/// MPI_THREAD_MULTIPLE requested) on construction and finalises it on <see cref="Dispose"/>.</summary>
/// <remarks>Calls are serialised with a lock, so autograd's backward (which may run on another thread) and the
/// trainer never overlap inside MPI. <see cref="Abort"/> does not take the lock: the collective watchdog calls it
/// while another thread is stuck in a collective. MPI counts are 32-bit, so large buffers go in chunks.</remarks>
public sealed unsafe class MpiCollectives : ICollectives
{
    private const int ChunkElements = 1 << 28;
    private readonly MpiNative mpi;
    private readonly object gate = new();
    private readonly bool ownsInit;
    private bool disposed;

    /// <summary>Initialises MPI (unless already initialised in this process) and reads the rank and size of MPI_COMM_WORLD.</summary>
    /// <exception cref="DllNotFoundException">Open MPI's libmpi is not installed.</exception>
    public MpiCollectives()
    {
        mpi = MpiNative.Instance;
        int flag = 0, provided = 0, rank = 0, size = 0;
        mpi.Check(mpi.Initialized(&flag), "MPI_Initialized");
        if (flag == 0)
        {
            mpi.Check(mpi.InitThread(null, 0, MpiNative.ThreadMultiple, &provided), "MPI_Init_thread");
            ownsInit = true;
        }
        else provided = MpiNative.ThreadMultiple;   // someone else owns MPI; trust that they asked for enough
        ThreadLevel = provided;
        mpi.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
        mpi.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    /// <summary>True when libmpi can be loaded on this machine (does not initialise MPI).</summary>
    public static bool IsAvailable
    {
        get
        {
            try { _ = MpiNative.Instance; return true; }
            catch (DllNotFoundException) { return false; }
        }
    }

    /// <summary>The libmpi file name that was loaded.</summary>
    public static string LibraryPath => MpiNative.LibraryPath;

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>The thread support MPI granted (0 single … 3 multiple).</summary>
    public int ThreadLevel { get; }

    /// <summary>MPI_Wtime: seconds since an arbitrary point, for timing communication.</summary>
    public double WallTime => mpi.Wtime();

    /// <summary>True between MPI_Init and MPI_Finalize in this process.</summary>
    public static bool IsInitialized
    {
        get
        {
            var native = MpiNative.Instance;
            int initialized = 0, finalized = 0;
            native.Check(native.Initialized(&initialized), "MPI_Initialized");
            native.Check(native.Finalized(&finalized), "MPI_Finalized");
            return initialized != 0 && finalized == 0;
        }
    }

    /// <inheritdoc/>
    public void AllReduceSum<T>(Span<T> values) where T : unmanaged => AllReduce(values, mpi.Sum, "MPI_Allreduce(sum)");

    /// <inheritdoc/>
    public void AllReduceMax<T>(Span<T> values) where T : unmanaged => AllReduce(values, mpi.Max, "MPI_Allreduce(max)");

    private void AllReduce<T>(Span<T> values, IntPtr op, string call) where T : unmanaged
    {
        var type = mpi.TypeOf<T>();
        lock (gate)
        {
            ThrowIfDisposed();
            for (int start = 0; start < values.Length; start += ChunkElements)
            {
                var chunk = values.Slice(start, Math.Min(ChunkElements, values.Length - start));
                fixed (T* p = chunk) mpi.Check(mpi.Allreduce(MpiNative.InPlace, p, chunk.Length, type, op, mpi.CommWorld), call);
            }
        }
    }

    /// <inheritdoc/>
    public void AllGather<T>(ReadOnlySpan<T> local, Span<T> all) where T : unmanaged
    {
        if ((long)local.Length * Size != all.Length) throw new ArgumentException($"all-gather of {local.Length} per rank needs {(long)local.Length * Size} elements, got {all.Length}");
        var type = mpi.TypeOf<T>();
        lock (gate)
        {
            ThrowIfDisposed();
            fixed (T* send = local) fixed (T* receive = all)
                mpi.Check(mpi.Allgather(send, local.Length, type, receive, local.Length, type, mpi.CommWorld), "MPI_Allgather");
        }
    }

    /// <inheritdoc/>
    public void AllGatherV<T>(ReadOnlySpan<T> local, Span<T> all, ReadOnlySpan<int> counts) where T : unmanaged
    {
        if (counts.Length != Size || counts[Rank] != local.Length) throw new ArgumentException($"need {Size} counts with counts[{Rank}] = {local.Length}");
        var displacements = new int[Size];
        long total = 0;
        for (int r = 0; r < Size; r++) { displacements[r] = checked((int)total); total += counts[r]; }
        if (total != all.Length) throw new ArgumentException($"all-gather of {total} elements into a buffer of {all.Length}");
        var type = mpi.TypeOf<T>();
        lock (gate)
        {
            ThrowIfDisposed();
            fixed (T* send = local) fixed (T* receive = all) fixed (int* c = counts) fixed (int* d = displacements)
                mpi.Check(mpi.Allgatherv(send, local.Length, type, receive, c, d, type, mpi.CommWorld), "MPI_Allgatherv");
        }
    }

    /// <inheritdoc/>
    public void ReduceScatterSum<T>(ReadOnlySpan<T> all, Span<T> local) where T : unmanaged
    {
        if ((long)local.Length * Size != all.Length) throw new ArgumentException($"reduce-scatter of {all.Length} over {Size} ranks cannot fill {local.Length}");
        var type = mpi.TypeOf<T>();
        lock (gate)
        {
            ThrowIfDisposed();
            fixed (T* send = all) fixed (T* receive = local)
                mpi.Check(mpi.ReduceScatterBlock(send, receive, local.Length, type, mpi.Sum, mpi.CommWorld), "MPI_Reduce_scatter_block");
        }
    }

    /// <inheritdoc/>
    public void Broadcast<T>(Span<T> values, int root) where T : unmanaged
    {
        var type = mpi.TypeOf<T>();
        lock (gate)
        {
            ThrowIfDisposed();
            for (int start = 0; start < values.Length; start += ChunkElements)
            {
                var chunk = values.Slice(start, Math.Min(ChunkElements, values.Length - start));
                fixed (T* p = chunk) mpi.Check(mpi.Bcast(p, chunk.Length, type, root, mpi.CommWorld), "MPI_Bcast");
            }
        }
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        lock (gate)
        {
            ThrowIfDisposed();
            mpi.Check(mpi.Barrier(mpi.CommWorld), "MPI_Barrier");
        }
    }

    /// <inheritdoc/>
    public void Abort(int errorCode)
    {
        // MPI_Abort from a second thread while the first is inside MPI is only defined with MPI_THREAD_MULTIPLE;
        // without it, exiting at once has the same effect: mpirun sees a rank die and ends the job.
        if (ThreadLevel >= MpiNative.ThreadMultiple) mpi.Abort(mpi.CommWorld, errorCode);
        _exit(errorCode);
    }

    /// <summary>Finalises MPI if this object initialised it. Call only on the success path: MPI_Finalize waits for
    /// the other ranks, so after a failure call <see cref="Abort"/> instead.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            int finalized = 0;
            mpi.Check(mpi.Finalized(&finalized), "MPI_Finalized");
            if (ownsInit && finalized == 0) mpi.Check(mpi.Finalize(), "MPI_Finalize");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void _exit(int status);
}
