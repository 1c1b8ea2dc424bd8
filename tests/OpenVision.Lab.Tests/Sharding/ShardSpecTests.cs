using OpenVision.Lab.Sharding;
using OpenVision.Pipelines;

namespace OpenVision.Lab.Tests.Sharding;

public sealed class ShardSpecTests
{
    [Fact]
    public void ParsesAndPartitionsShards()
    {
        var spec = ShardSpec.Parse("1/3");
        Assert.Equal([1, 4, 7], Enumerable.Range(0, 9).Where(spec.Owns));
        // Every shard has exactly one owner, whatever the number of workers.
        foreach (int n in new[] { 1, 2, 5 })
            Assert.All(Enumerable.Range(0, 23), k => Assert.Single(Enumerable.Range(0, n), i => new ShardSpec(i, n).Owns(k)));
        foreach (var bad in new[] { "3/3", "-1/2", "1", "a/b", "0/0" }) Assert.Throws<ArgumentException>(() => ShardSpec.Parse(bad));
    }

    [Fact]
    public void ReadsSlurmAndKubernetesJobArrays()
    {
        static ShardSpec? From(params (string, string)[] v) => ShardSpec.FromEnvironment(name => v.FirstOrDefault(x => x.Item1 == name).Item2);
        Assert.Null(From());
        Assert.Equal(new ShardSpec(2, 4), From(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "4")));
        Assert.Equal(new ShardSpec(5, 8), From(("JOB_COMPLETION_INDEX", "5"), ("OPENVISION_SHARD_COUNT", "8")));
        Assert.Throws<ArgumentException>(() => From(("JOB_COMPLETION_INDEX", "5")));
        Assert.Throws<ArgumentException>(() => From(("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_COUNT", "4")));
    }

    [Fact]
    public void SplitKeepsOrderAndSizes()
    {
        var shards = ShardedEmbedding.Split([.. Enumerable.Range(0, 10).Select(i => $"f{i}")], 4);
        Assert.Equal([4, 4, 2], shards.Select(s => s.Length));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"f{i}"), shards.SelectMany(s => s));
    }
}
