using OpenVision.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Distributed.TestHost;

/// <summary>Synthetic samples where sample i (pixels and all three texts) depends only on i, so any split of the
/// index range among ranks reproduces the one-process batches exactly.</summary>
internal sealed class SampleData(int contextLength, int queryTokens, int vocabSize) : ITrainingData
{
    public long SkippedSamples => 0;

    public long SamplesWithoutCaption => 0;

    public IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, DataPosition start, CancellationToken cancellationToken)
    {
        for (long first = start.SamplesConsumed; ; first += batchSize)
        {
            using var scope = NewDisposeScope();
            var pixels = new List<Tensor>();
            long[,] alt = new long[batchSize, contextLength], sub = new long[batchSize, contextLength], caption = new long[batchSize, queryTokens];
            for (int b = 0; b < batchSize; b++)
            {
                long i = first + b;
                pixels.Add(torch.randn([1, 3, imageSize, imageSize], generator: new Generator((ulong)i + 1)));
                var random = new Random((int)(i % int.MaxValue));
                Text(alt, b, random, withClass: true);
                Text(sub, b, random, withClass: true);
                Text(caption, b, random, withClass: false);
            }
            var keys = Enumerable.Range(0, batchSize).Select(b => $"s{first + b}").ToList();
            var batch = new TrainingBatch(keys, keys.Select(_ => -1).ToList(), torch.cat(pixels, 0), torch.tensor(alt), torch.tensor(sub), torch.tensor(caption),
                0, new DataPosition(start.Epoch, first + batchSize));
            foreach (var t in new[] { batch.Pixels, batch.AltTextIds, batch.SubCaptionIds, batch.CaptionIds }) t.MoveToOuterDisposeScope();
            yield return batch;
        }
    }

    // [bos] words [eos] pads, and a class-like last id for the text tower's "last" pooling.
    private void Text(long[,] ids, int row, Random random, bool withClass)
    {
        int length = ids.GetLength(1), body = length - (withClass ? 1 : 0);
        int words = random.Next(1, body - 1);
        ids[row, 0] = 1;
        for (int i = 1; i <= words; i++) ids[row, i] = random.Next(3, vocabSize - 1);
        ids[row, words + 1] = 2;
        if (withClass) ids[row, length - 1] = vocabSize - 1;
    }
}
