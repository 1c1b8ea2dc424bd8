using OpenVision.Training.Distributed.Mpi;

namespace OpenVision.Training.Distributed;

/// <summary>Chooses the <see cref="IDistributedContext"/> for this process, so one binary runs alone or under
/// <c>mpirun -np N</c> / <c>srun</c> unchanged.</summary>
public static class DistributedContext
{
    /// <summary>An Open MPI context when <see cref="LaunchEnvironment.Current"/> says an MPI launcher started this
    /// process, else <see cref="SingleProcessContext.Instance"/>. Dispose it on success (MPI_Finalize); after an
    /// exception call <see cref="IDistributedContext.Abort"/> so the other ranks do not wait.</summary>
    /// <param name="options">Bucket size, collective timeout.</param>
    /// <exception cref="DllNotFoundException">Launched by MPI but Open MPI's libmpi is not installed.</exception>
    /// <exception cref="InvalidOperationException">MPI's world size differs from the launcher's (e.g. an MPICH mpirun).</exception>
    public static IDistributedContext FromEnvironment(DistributedOptions? options = null)
    {
        var launch = LaunchEnvironment.Current;
        if (!launch.IsMpiLaunch) return SingleProcessContext.Instance;
        var mpi = new MpiCollectives();
        if (launch.ExpectedSize is { } expected && expected != mpi.Size)
        {
            // A foreign launcher starts N singletons of size 1: continuing would train N independent models.
            mpi.Dispose();
            throw new InvalidOperationException($"the {launch.Launcher} launcher started {expected} processes but MPI_COMM_WORLD has {mpi.Size}; " +
                "launch with Open MPI's mpirun (or srun --mpi=pmix with an Open MPI built for Slurm)");
        }
        return new CollectiveContext(mpi, options);
    }
}
