using System.Text;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;
using OpenVision.Training.Distributed;
using TorchSharp;

namespace OpenVision.Training.Tests.Data;

// Data-parallel reading from real tar shards: every rank opens one stream over the global order and decodes only
// its block of each global batch. Each rank gets its own source, as separate processes would.
public sealed class RankSplitTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private const int ShuffleBuffer = 10;

    private static WebDatasetSource Source(string pattern, bool shuffle = true) =>
        new(pattern, new DataOrderOptions { Seed = 7, Shuffle = shuffle, ShuffleBufferSize = ShuffleBuffer });

    private static TrainingBatcherOptions Options(int batchSize, RankSplit? split = null) =>
        new() { ImageSize = 12, BatchSize = batchSize, Seed = 7, Workers = 2, Split = split };

    private static BatcherTrainingData Data(WebDatasetSource source) => new(source, Options(1), new TrainingTexts());

    private static double[] Floats(torch.Tensor t)
    {
        using var doubles = t.to_type(torch.ScalarType.Float64);
        return doubles.data<double>().ToArray();
    }

    private sealed record Seen(string[] Keys, double[] Pixels, double[] AltText, double[] SubCaption, double[] Caption, DataPosition Position);

    private static List<Seen> Take(IEnumerable<TrainingBatch> batches, int count) =>
        [.. batches.Take(count).Select(b =>
        {
            using (b) return new Seen([.. b.Keys], Floats(b.Pixels), Floats(b.AltTextIds), Floats(b.SubCaptionIds), Floats(b.CaptionIds), b.Position);
        })];

    // 40 samples, global batch 6: 6 batches an epoch and 4 samples dropped, so 15 batches cross two epoch ends (and
    // a start at 18 crosses the first one after 3 batches). The ranks' local batches k, side by side, are the one-process
    // batch k: same keys, pixels and texts (augmentation is keyed by the global sample index), same positions.
    [Theory]
    [InlineData(1, 0L)]
    [InlineData(2, 0L)]
    [InlineData(3, 0L)]
    [InlineData(3, 18L)]
    public void UnionOfTheRanksBatchesIsTheOneProcessBatch(int ranks, long start)
    {
        const int global = 6, steps = 15;
        string pattern = DataFixtures.WriteShards(_dir.Path, 40, 10);
        var single = Take(Data(Source(pattern)).Stream(12, global, new DataPosition(0, start), default), steps);
        Assert.Equal(2, single[^1].Position.Epoch);
        var perRank = Enumerable.Range(0, ranks)
            .Select(r => Take(RankBatches.Stream(Data(Source(pattern)), 12, global, new DataPosition(0, start), r, ranks, default), steps)).ToList();
        for (int k = 0; k < steps; k++)
        {
            var parts = perRank.Select(batches => batches[k]).ToList();
            Assert.All(parts, p => Assert.Equal(global / ranks, p.Keys.Length));
            Assert.Equal(single[k].Keys, parts.SelectMany(p => p.Keys));
            Assert.Equal(single[k].Pixels, parts.SelectMany(p => p.Pixels));
            Assert.Equal(single[k].AltText, parts.SelectMany(p => p.AltText));
            Assert.Equal(single[k].SubCaption, parts.SelectMany(p => p.SubCaption));
            Assert.Equal(single[k].Caption, parts.SelectMany(p => p.Caption));
            Assert.All(parts, p => Assert.Equal(single[k].Position, p.Position));
        }
    }

    // Per epoch, every rank yields as many batches as one process, with the same positions; the incomplete global
    // batch at the end (40 = 6·6 + 4) is dropped by all of them.
    [Fact]
    public void EveryRankYieldsTheSameBatchesPerEpochAsOneProcess()
    {
        const int global = 6, ranks = 3;
        string pattern = DataFixtures.WriteShards(_dir.Path, 40, 10);
        var expected = new TrainingBatcher(Source(pattern), Options(global)).ReadEpoch(1).Select(Position).ToList();
        Assert.Equal([6L, 12, 18, 24, 30, 36], expected.Select(p => p.SamplesConsumed));
        for (int r = 0; r < ranks; r++)
        {
            var batches = new TrainingBatcher(Source(pattern), Options(global, new RankSplit(r, ranks))).ReadEpoch(1).ToList();
            Assert.All(batches, b => Assert.Equal(global / ranks, b.Count));
            Assert.Equal(expected, batches.Select(Position));
        }

        static DataPosition Position(TrainingBatch batch)
        {
            using (batch) return batch.Position;
        }
    }

    // One stream per rank and epoch: reading K global batches parses about K·B samples from the shards, not the
    // K²·B / 2 that reopening the stream at each batch (replaying the shuffle from the epoch's start) would cost.
    // No timing: the source counts the samples it parsed.
    [Theory]
    [InlineData(10)]
    [InlineData(30)]
    public void ReadingCostGrowsLinearlyWithTheBatchesRead(int batches)
    {
        const int global = 6, ranks = 3;
        string pattern = DataFixtures.WriteShards(_dir.Path, 240, 60);
        var source = Source(pattern);
        Take(RankBatches.Stream(Data(source), 12, global, DataPosition.Start, 1, ranks, default), batches);
        // Read-ahead bound: the blocks queued (2) and being written (1), decoded (2), the finished batches (2 + 1), the
        // global batch being read (1), and the shuffle buffer's look-ahead.
        long readAhead = 9 * global + ShuffleBuffer;
        Assert.InRange(source.SamplesRead, (long)batches * global, (long)batches * global + readAhead);
    }

    // An image that does not decode in one rank's block is replaced by the next sample of that block, so every rank
    // keeps B / N samples and the same positions; the other rank never decodes it (its skip log stays empty).
    [Fact]
    public void UndecodableImageIsReplacedWithinItsBlockAndOnlyItsRankDecodesIt()
    {
        string shard = WriteShard(corrupt: [2]);
        var sources = new[] { Source(shard, shuffle: false), Source(shard, shuffle: false) };
        var batches = Enumerable.Range(0, 2).Select(r => new TrainingBatcher(sources[r], Options(4, new RankSplit(r, 2))).ReadEpoch(0).ToList()).ToList();
        Assert.Equal([["s0000000", "s0000001"], ["s0000004", "s0000005"], ["s0000008", "s0000009"]], batches[0].Select(b => b.Keys));
        Assert.Equal([["s0000003", "s0000003"], ["s0000006", "s0000007"], ["s0000010", "s0000011"]], batches[1].Select(b => b.Keys));
        Assert.Equal(Floats(batches[1][0].Pixels[1]), Floats(batches[1][0].Pixels[0]));
        Assert.All(batches, rank => Assert.Equal([4L, 8, 12], rank.Select(b => b.Position.SamplesConsumed)));
        Assert.Equal(0, sources[0].Skips.Count);
        Assert.Equal(1, sources[1].Skips.CountsByReason[SkipReason.UndecodableImage]);
        foreach (var b in batches.SelectMany(r => r)) b.Dispose();
    }

    [Fact]
    public void ABlockWithNoDecodableImageIsAnErrorNamingIt()
    {
        string shard = WriteShard(corrupt: [6, 7]);
        var batcher = new TrainingBatcher(Source(shard, shuffle: false), Options(4, new RankSplit(1, 2)));
        var error = Assert.Throws<InvalidOperationException>(() => batcher.ReadEpoch(0).ToList().ForEach(b => b.Dispose()));
        Assert.Contains("block at sample 6 of epoch 0", error.Message);
    }

    [Fact]
    public void GlobalBatchNotDivisibleByTheRanksIsRefused()
    {
        var source = Source(DataFixtures.WriteShards(_dir.Path, 8, 8));
        Assert.Throws<ArgumentException>(() => new TrainingBatcher(source, Options(6, new RankSplit(0, 4))));
        Assert.Throws<ArgumentException>(() => Data(source).Stream(12, 6, DataPosition.Start, new RankSplit(0, 4), default));
        Assert.Throws<ArgumentOutOfRangeException>(() => Data(source).Stream(12, 6, DataPosition.Start, new RankSplit(2, 2), default));
    }

    private string WriteShard(int[] corrupt)
    {
        using (var writer = new WebDatasetWriter(_dir.Path, "mixed", 100))
            for (int i = 0; i < 12; i++)
            {
                var files = DataFixtures.Sample(i);
                if (corrupt.Contains(i)) files["png"] = Encoding.ASCII.GetBytes("not a png");
                writer.Write($"s{i:D7}", files);
            }
        return Path.Combine(_dir.Path, "mixed-000000.tar");
    }
}
