using OpenVision.Pipelines;

namespace OpenVision.Lab.Sharding;

/// <summary>Which share of a job's input shards this worker processes: worker <see cref="Index"/> of
/// <see cref="Count"/> takes every input shard k with k mod Count = Index, so workers never overlap and any
/// number of them covers everything.</summary>
/// <param name="Index">This worker, 0 … Count − 1.</param>
/// <param name="Count">Number of workers.</param>
public sealed record ShardSpec(int Index, int Count)
{
    /// <summary>The whole input in one worker.</summary>
    public static ShardSpec All { get; } = new(0, 1);

    /// <summary>True when input shard <paramref name="shard"/> is this worker's.</summary>
    public bool Owns(int shard) => shard % Count == Index;

    /// <summary>Parses "I/N" (0 ≤ I &lt; N).</summary>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int index) || !int.TryParse(parts[1], out int count) || count < 1 || index < 0 || index >= count)
            throw new ArgumentException($"--shard must be I/N with 0 <= I < N, got '{text}'");
        return new ShardSpec(index, count);
    }

    /// <summary>The worker's share from a job array: Slurm's <c>SLURM_ARRAY_TASK_ID</c> (offset by
    /// <c>SLURM_ARRAY_TASK_MIN</c>, count <c>SLURM_ARRAY_TASK_COUNT</c>) or Kubernetes' indexed jobs
    /// (<c>JOB_COMPLETION_INDEX</c>, count from <c>OPENVISION_SHARD_COUNT</c>, which Kubernetes does not set); null outside a job array.</summary>
    public static ShardSpec? FromEnvironment(Func<string, string?>? variable = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        static int? Int(string? s) => int.TryParse(s, out int v) ? v : null;
        if (Int(variable("SLURM_ARRAY_TASK_ID")) is { } task)
        {
            int first = Int(variable("SLURM_ARRAY_TASK_MIN")) ?? 0;
            int count = Int(variable("SLURM_ARRAY_TASK_COUNT")) ?? throw new ArgumentException("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
            return Checked(task - first, count, "SLURM_ARRAY_TASK_ID");
        }
        if (Int(variable("JOB_COMPLETION_INDEX")) is { } index)
        {
            int count = Int(variable("OPENVISION_SHARD_COUNT")) ?? throw new ArgumentException("JOB_COMPLETION_INDEX is set: set OPENVISION_SHARD_COUNT to the job's completions");
            return Checked(index, count, "JOB_COMPLETION_INDEX");
        }
        return null;
    }

    private static ShardSpec Checked(int index, int count, string source) =>
        index >= 0 && index < count && count >= 1 ? new ShardSpec(index, count) : throw new ArgumentException($"{source} gives worker {index} of {count}");

    /// <inheritdoc/>
    public override string ToString() => $"{Index}/{Count}";
}
