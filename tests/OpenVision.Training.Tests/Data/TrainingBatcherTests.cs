using System.Text;
using OpenVision.Text;
using OpenVision.Training.Augmentation;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;
using TorchSharp;

namespace OpenVision.Training.Tests.Data;

public sealed class TrainingBatcherTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private TrainingBatcher Batcher(string pattern, long seed = 1, int workers = 2, int batchSize = 8) =>
        new(new WebDatasetSource(pattern, new DataOrderOptions { Seed = seed, ShuffleBufferSize = 10 }),
            new TrainingBatcherOptions { ImageSize = 16, BatchSize = batchSize, Seed = seed, Workers = workers });

    private static double[] Floats(torch.Tensor t)
    {
        using var doubles = t.to_type(torch.ScalarType.Float64);
        return doubles.data<double>().ToArray();
    }

    private static long[] Row(torch.Tensor ids, int row) => ids[row].data<long>().ToArray();

    [Fact]
    public void BatchesHaveTheModelsShapesAndTokenLayouts()
    {
        string pattern = DataFixtures.WriteShards(_dir.Path, 20, 5);
        var batcher = Batcher(pattern);
        var tokenizer = OpenVisionTokenizer.CreateDefault();
        using var batch = batcher.ReadEpoch(0).First();
        Assert.Equal([8L, 3, 16, 16], batch.Pixels.shape);
        Assert.Equal(torch.ScalarType.Float32, batch.Pixels.dtype);
        Assert.Equal([8L, 80], batch.AltTextIds.shape);
        Assert.Equal([8L, 80], batch.SubCaptionIds.shape);
        Assert.Equal([8L, 128], batch.CaptionIds.shape);
        Assert.Equal(torch.ScalarType.Int64, batch.CaptionIds.dtype);
        Assert.Equal(0, batch.WithoutCaption);
        for (int i = 0; i < 8; i++)
        {
            int index = int.Parse(batch.Keys[i][1..]);
            Assert.Equal(index % 10, batch.Labels[i]);
            Assert.Equal(tokenizer.Encode($"alt text {index}"), Row(batch.AltTextIds, i));
            var sub = Row(batch.SubCaptionIds, i);
            Assert.Equal([1L, 101L], new[] { sub[0], sub[79] });
            Assert.Contains(tokenizer.Decode(sub), new[] { $"sentence one of {index}", "sentence two", "sentence three" });
            var caption = Row(batch.CaptionIds, i);
            var pieces = tokenizer.WordPieceIds($"Sentence one of {index}. Sentence two! Sentence three.");
            Assert.Equal([1L, .. pieces.Select(p => (long)p), 2L, .. new long[126 - pieces.Count]], caption);
        }
    }

    [Fact]
    public void SamplesWithoutCaptionUseTheAltTextAndAreCounted()
    {
        string pattern = DataFixtures.WriteShards(_dir.Path, 16, 8, caption: false);
        var batcher = Batcher(pattern);
        var batches = batcher.ReadEpoch(0).ToList();
        Assert.Equal(2, batches.Count);
        Assert.All(batches, b => Assert.Equal(8, b.WithoutCaption));
        Assert.Equal(16, batcher.SamplesWithoutCaption);
        var tokenizer = OpenVisionTokenizer.CreateDefault();
        var alt = Row(batches[0].AltTextIds, 0);
        Assert.Equal(alt, Row(batches[0].SubCaptionIds, 0));
        var pieces = tokenizer.WordPieceIds(tokenizer.Decode(alt));
        Assert.Equal([1L, .. pieces.Select(p => (long)p), 2L], Row(batches[0].CaptionIds, 0)[..(pieces.Count + 2)]);
        batches.ForEach(b => b.Dispose());
    }

    [Fact]
    public void LongCaptionsEndWithEosInTheLastPlace()
    {
        var ids = new long[128];
        TrainingTexts.CaptionLayout(Enumerable.Range(1000, 300).ToArray(), ids);
        Assert.Equal((1L, 1000L, 1125L, 2L), (ids[0], ids[1], ids[126], ids[127]));
        TrainingTexts.CaptionLayout(Enumerable.Range(1000, 126).ToArray(), ids);
        Assert.Equal((1125L, 2L), (ids[126], ids[127]));
    }

    [Fact]
    public void SameSeedGivesIdenticalBatchesWhateverTheWorkerCount()
    {
        string pattern = DataFixtures.WriteShards(_dir.Path, 40, 10);
        var one = Batcher(pattern, workers: 1).ReadEpoch(0).ToList();
        var three = Batcher(pattern, workers: 3).ReadEpoch(0).ToList();
        var other = Batcher(pattern, seed: 2).ReadEpoch(0).ToList();
        Assert.Equal(5, one.Count);
        for (int b = 0; b < one.Count; b++)
        {
            Assert.Equal(one[b].Keys, three[b].Keys);
            Assert.Equal(Floats(one[b].Pixels), Floats(three[b].Pixels));
            Assert.Equal(Floats(one[b].SubCaptionIds), Floats(three[b].SubCaptionIds));
        }
        Assert.NotEqual(one.SelectMany(b => b.Keys), other.SelectMany(b => b.Keys));
        foreach (var b in one.Concat(three).Concat(other)) b.Dispose();
    }

    [Fact]
    public void ResumingAtABatchPositionContinuesWithTheSameBatches()
    {
        string pattern = DataFixtures.WriteShards(_dir.Path, 44, 11);
        var full = Batcher(pattern).ReadEpoch(1).ToList();
        Assert.Equal(5, full.Count);
        var position = full[1].Position;
        Assert.Equal(new DataPosition(1, 16), position);
        var resumed = Batcher(pattern).ReadEpoch(position.Epoch, position.SamplesConsumed).ToList();
        Assert.Equal(3, resumed.Count);
        for (int b = 0; b < 3; b++)
        {
            Assert.Equal(full[b + 2].Keys, resumed[b].Keys);
            Assert.Equal(full[b + 2].Position, resumed[b].Position);
            Assert.Equal(Floats(full[b + 2].Pixels), Floats(resumed[b].Pixels));
            Assert.Equal(Floats(full[b + 2].SubCaptionIds), Floats(resumed[b].SubCaptionIds));
        }
        foreach (var b in full.Concat(resumed)) b.Dispose();
    }

    [Fact]
    public void UndecodableImagesAreSkippedCountedAndTheBatchIsRefilled()
    {
        using (var writer = new WebDatasetWriter(_dir.Path, "mixed", 100))
        {
            for (int i = 0; i < 12; i++)
            {
                var files = DataFixtures.Sample(i);
                if (i is 2 or 5) files["png"] = Encoding.ASCII.GetBytes("not a png");
                if (i == 7) files["png"] = DataFixtures.Png(i)[..40];   // truncated PNG
                writer.Write($"s{i:D7}", files);
            }
        }
        var source = new WebDatasetSource(Path.Combine(_dir.Path, "mixed-000000.tar"), new DataOrderOptions { Shuffle = false });
        var batcher = new TrainingBatcher(source, new TrainingBatcherOptions { ImageSize = 8, BatchSize = 4, Workers = 2 });
        var batches = batcher.ReadEpoch(0).ToList();
        Assert.Equal(2, batches.Count);   // 9 good samples: two full batches, one left over
        Assert.Equal(["s0000000", "s0000001", "s0000003", "s0000004"], batches[0].Keys);
        Assert.Equal(["s0000006", "s0000008", "s0000009", "s0000010"], batches[1].Keys);
        Assert.Equal(new DataPosition(0, 11), batches[1].Position);
        Assert.Equal(3, source.Skips.CountsByReason[SkipReason.UndecodableImage]);
        batches.ForEach(b => b.Dispose());
    }

    [Fact]
    public void EndlessReadCrossesEpochsAndStopsWhenTheConsumerStops()
    {
        string pattern = DataFixtures.WriteShards(_dir.Path, 20, 5);
        var batches = Batcher(pattern).Read(new DataPosition(0, 8)).Take(6).ToList();
        // 20 samples, batches of 8: epoch 0 resumed at 8 has one batch left, later epochs two (4 samples dropped).
        Assert.Equal([0, 1, 1, 2, 2, 3], batches.Select(b => b.Position.Epoch));
        Assert.Equal([16L, 8, 16, 8, 16, 8], batches.Select(b => b.Position.SamplesConsumed));
        batches.ForEach(b => b.Dispose());
    }

    [Fact]
    public void TooFewSamplesForOneBatchIsAnError()
    {
        string pattern = DataFixtures.WriteShards(_dir.Path, 5, 5);
        Assert.Throws<InvalidOperationException>(() => Batcher(pattern).Read(DataPosition.Start).First());
    }

    [Fact]
    public void AugmentationCanBeSwitchedOff()
    {
        string pattern = DataFixtures.WriteShards(_dir.Path, 8, 8);
        var source = new WebDatasetSource(pattern, new DataOrderOptions { Shuffle = false });
        var batcher = new TrainingBatcher(source, new TrainingBatcherOptions { ImageSize = 16, BatchSize = 8, Augmentation = AugmentationOptions.None });
        using var batch = batcher.ReadEpoch(0).Single();
        var eval = new OpenVision.Vision.ImageTransform(new OpenVision.Vision.ImageTransformOptions { ImageSize = 16 });
        var expected = eval.ToChw(OpenVision.Vision.ImageDecoder.Decode(DataFixtures.Png(3), "3.png"));
        Assert.Equal(expected, batch.Pixels[3].data<float>().ToArray());
    }
}
