namespace OpenVision.Training.Distributed;

/// <summary>How this process was started, read from the variables MPI launchers set: Open MPI's mpirun
/// (<c>OMPI_COMM_WORLD_SIZE</c>), any PMIx launcher (<c>PMIX_RANK</c>), or Slurm's srun with PMI-2 or PMIx
/// (<c>PMI_RANK</c>/<c>PMI_SIZE</c>). <c>OPENVISION_DISTRIBUTED=mpi|none</c> overrides the guess.</summary>
/// <param name="IsMpiLaunch">True when MPI should be initialised.</param>
/// <param name="Launcher">What was recognised, for messages ("mpirun", "pmix", "slurm-pmi", "forced", "none").</param>
/// <param name="ExpectedSize">The world size the launcher announced, when it did.</param>
public sealed record LaunchEnvironment(bool IsMpiLaunch, string Launcher, int? ExpectedSize)
{
    /// <summary>Reads the current process's environment.</summary>
    public static LaunchEnvironment Current => From(name => Environment.GetEnvironmentVariable(name));

    /// <summary>Reads the variables through <paramref name="variable"/> (for tests).</summary>
    public static LaunchEnvironment From(Func<string, string?> variable)
    {
        static int? Int(string? s) => int.TryParse(s, out int v) ? v : null;
        switch (variable("OPENVISION_DISTRIBUTED")?.Trim().ToLowerInvariant())
        {
            case "none" or "off" or "0": return new(false, "forced", 1);
            case "mpi": return new(true, "forced", null);
            case null or "": break;
            case var other: throw new ArgumentException($"OPENVISION_DISTRIBUTED must be 'mpi' or 'none', got '{other}'");
        }
        if (Int(variable("OMPI_COMM_WORLD_SIZE")) is { } ompiSize) return new(true, "mpirun", ompiSize);
        if (variable("PMIX_RANK") is not null) return new(true, "pmix", Int(variable("SLURM_NTASKS")));
        if (variable("PMI_RANK") is not null || variable("PMI_SIZE") is not null)
            return new(true, "slurm-pmi", Int(variable("PMI_SIZE")) ?? Int(variable("SLURM_NTASKS")));
        return new(false, "none", 1);
    }
}
