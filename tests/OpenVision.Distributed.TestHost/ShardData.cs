using OpenVision.Text;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Distributed.TestHost;

/// <summary>Real WebDataset shards through <see cref="BatcherTrainingData"/> (shuffled, augmented, rank-split), with
/// token ids folded into the tiny model's vocabulary.</summary>
internal sealed class ShardData(string pattern, int seed, int contextLength, int queryTokens, int vocabSize) : ITrainingData
{
    private readonly BatcherTrainingData data = new(
        new WebDatasetSource(pattern, new DataOrderOptions { Seed = seed, ShuffleBufferSize = 8 }),
        new TrainingBatcherOptions { Seed = seed, Workers = 2 },
        new TrainingTexts(OpenVisionTokenizer.CreateDefault(contextLength), queryTokens));

    public long SkippedSamples => data.SkippedSamples;

    public long SamplesWithoutCaption => data.SamplesWithoutCaption;

    public IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, DataPosition start, CancellationToken cancellationToken) =>
        data.Stream(imageSize, batchSize, start, cancellationToken).Select(Fold);

    public IEnumerable<TrainingBatch> Stream(int imageSize, int globalBatchSize, DataPosition start, RankSplit split, CancellationToken cancellationToken) =>
        data.Stream(imageSize, globalBatchSize, start, split, cancellationToken).Select(Fold);

    private TrainingBatch Fold(TrainingBatch batch)
    {
        using (batch)
            return batch with { Pixels = batch.Pixels.clone(), AltTextIds = batch.AltTextIds % vocabSize, SubCaptionIds = batch.SubCaptionIds % vocabSize, CaptionIds = batch.CaptionIds % vocabSize };
    }
}
