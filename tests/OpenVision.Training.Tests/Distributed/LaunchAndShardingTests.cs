using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Distributed;

public sealed class LaunchAndShardingTests
{
    private static LaunchEnvironment Launch(params (string Name, string Value)[] variables) =>
        LaunchEnvironment.From(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Fact]
    public void RecognisesMpirunPmixSlurmAndOverrides()
    {
        Assert.Equal(new LaunchEnvironment(false, "none", 1), Launch());
        Assert.Equal(new LaunchEnvironment(true, "mpirun", 4), Launch(("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "2")));
        Assert.Equal(new LaunchEnvironment(true, "pmix", 8), Launch(("PMIX_RANK", "3"), ("SLURM_NTASKS", "8")));
        Assert.Equal(new LaunchEnvironment(true, "slurm-pmi", 2), Launch(("PMI_RANK", "1"), ("PMI_SIZE", "2")));
        Assert.False(Launch(("OMPI_COMM_WORLD_SIZE", "4"), ("OPENVISION_DISTRIBUTED", "none")).IsMpiLaunch);
        Assert.True(Launch(("OPENVISION_DISTRIBUTED", "mpi")).IsMpiLaunch);
        Assert.Throws<ArgumentException>(() => Launch(("OPENVISION_DISTRIBUTED", "nccl")));
        // A plain Slurm batch shell (no srun step, no PMI) is not an MPI launch.
        Assert.False(Launch(("SLURM_NTASKS", "8"), ("SLURM_PROCID", "0")).IsMpiLaunch);
    }

    // Ranks' blocks of each global batch, put side by side, are the one-process batches, from any start position.
    [Theory]
    [InlineData(2, 0L)]
    [InlineData(4, 12L)]
    public void RankBlocksTileTheGlobalBatches(int ranks, long start)
    {
        const int global = 8;
        var data = new IndexData();
        var single = RankBatches.Stream(data, 4, global, new DataPosition(0, start), 0, 1, default).Take(3).Select(Indices).ToList();
        var perRank = Enumerable.Range(0, ranks).Select(r => RankBatches.Stream(data, 4, global, new DataPosition(0, start), r, ranks, default).Take(3).Select(Indices).ToList()).ToList();
        for (int step = 0; step < 3; step++)
            Assert.Equal(single[step], perRank.SelectMany(r => r[step]));
        Assert.Throws<ArgumentException>(() => RankBatches.Stream(data, 4, 6, DataPosition.Start, 0, 4, default));
    }

    // Data without its own rank split (the interface's fallback: read local batches, keep every N-th) agrees with one
    // process across epoch ends: epochs of 20 samples, global batch 6, so each epoch drops 2 samples in one process
    // and the partial global batch on every rank.
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void FallbackSplitDropsTheSameIncompleteGlobalBatchAsOneProcess(int ranks)
    {
        const int global = 6, steps = 8;
        var data = new IndexData(epochSize: 20);
        var single = data.Stream(4, global, new DataPosition(0, 6), default).Take(steps).Select(Indexed).ToList();
        Assert.Equal([(0, 12L), (0, 18L), (1, 6L), (1, 12L), (1, 18L), (2, 6L), (2, 12L), (2, 18L)], single.Select(b => (b.Position.Epoch, b.Position.SamplesConsumed)));
        var perRank = Enumerable.Range(0, ranks).Select(r => RankBatches.Stream(data, 4, global, new DataPosition(0, 6), r, ranks, default).Take(steps).Select(Indexed).ToList()).ToList();
        for (int step = 0; step < steps; step++)
        {
            Assert.Equal(single[step].Indices, perRank.SelectMany(r => r[step].Indices));
            Assert.All(perRank, r => Assert.Equal(single[step].Position, r[step].Position));
        }
    }

    private static (long[] Indices, DataPosition Position) Indexed(TrainingBatch batch) => (Indices(batch), batch.Position);

    // Mixed dtypes, tensors larger than a bucket and odd shapes all come back averaged in place; broadcast gives rank 0's.
    [Fact]
    public void BucketedMeanAndBroadcastRestoreEveryTensor()
    {
        var options = new DistributedOptions { BucketBytes = 64 };            // forces several buckets
        var results = new ThreadGroup(3).Run(context =>
        {
            double r = context.Rank;
            using var a = torch.full([5], r, ScalarType.Float32);
            using var b = torch.full([2, 3], 10 * r, ScalarType.Float64);
            using var c = torch.arange(40, dtype: ScalarType.Float32).reshape(4, 10) * (r + 1);   // 160 bytes > bucket
            context.AllReduceMean([a, b, c]);
            using var p = torch.full([3], r + 7, ScalarType.Float32);
            context.Broadcast([p]);
            return (a.data<float>().ToArray(), b.data<double>().ToArray(), c.data<float>().ToArray(), p.data<float>().ToArray());
        }, options);
        foreach (var (a, b, c, p) in results)
        {
            Assert.All(a, v => Assert.Equal(1f, v));                           // mean of 0, 1, 2
            Assert.All(b, v => Assert.Equal(10.0, v));
            Assert.Equal(Enumerable.Range(0, 40).Select(i => i * 2f), c);      // (1 + 2 + 3) / 3 = 2
            Assert.All(p, v => Assert.Equal(7f, v));
        }
    }

    private static long[] Indices(TrainingBatch batch)
    {
        using (batch) return batch.CaptionIds[.., 0].data<long>().ToArray();
    }

    // Sample i carries i (plus 1000 per epoch) in its first caption id; epochs of epochSize samples drop their short
    // remainder, as TrainingBatcher does, or never end. Implements only the plain stream.
    private sealed class IndexData(long epochSize = long.MaxValue) : ITrainingData
    {
        public long SkippedSamples => 0;

        public long SamplesWithoutCaption => 0;

        public IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, DataPosition start, CancellationToken cancellationToken)
        {
            for (int epoch = start.Epoch; ; epoch++)
                for (long first = epoch == start.Epoch ? start.SamplesConsumed : 0; first + batchSize <= epochSize; first += batchSize)
                {
                    var ids = torch.arange(first, first + batchSize, dtype: ScalarType.Int64).reshape(batchSize, 1) + 1000L * epoch;
                    var keys = Enumerable.Range(0, batchSize).Select(i => $"s{first + i}").ToList();
                    yield return new TrainingBatch(keys, keys.Select(_ => -1).ToList(), torch.zeros(batchSize, 3, imageSize, imageSize), ids.clone(), ids.clone(), ids,
                        0, new DataPosition(epoch, first + batchSize));
                }
        }
    }
}
