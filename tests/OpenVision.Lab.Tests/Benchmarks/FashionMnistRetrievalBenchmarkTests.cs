using OpenVision.Lab.Benchmarks.Search;
using OpenVision.Search;
using OpenVision.Tests.Parity;

namespace OpenVision.Lab.Tests.Benchmarks;

/// <summary><see cref="FashionMnistRetrievalBenchmark"/> on the first test images of the installed Fashion-MNIST: the
/// evaluator's text→image recall@10 and the index's "own image in the exact top 10" are one measurement taken by two
/// independent code paths, so they must agree; the shards and the index stay in the work folder for the CLI.</summary>
public sealed class FashionMnistRetrievalBenchmarkTests
{
    private const int Images = 300;

    [Fact]
    public void TheEvaluatorAndTheIndexAgreeOnTextToImageRecall()
    {
        using var temp = new TempDirectory();
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder("ovtest-mini-p16-64"));
        var result = FashionMnistRetrievalBenchmark.Run(encoder, "ovtest-mini-p16-64", new FashionMnistRetrievalOptions { WorkFolder = temp.Path, Limit = Images });

        Assert.Equal(Images, result.Images);
        Assert.Equal((Images, Images), (result.AltText.Texts, result.Recaption.Texts));
        var prompts = result.Index[0];
        var captions = result.Index[1];
        Assert.Equal(40, prompts.Count);
        Assert.Null(prompts.ExactOwnImageAt10);
        Assert.Equal(Images, captions.Count);
        // Ties between equal image scores are counted in the query's favour by the evaluator and broken arbitrarily by
        // top-k; none are expected among distinct images, one duplicate pair at most moves one query.
        Assert.InRange(captions.ExactOwnImageAt10!.Value, result.AltText.TextToImage[10] - 1.0 / Images, result.AltText.TextToImage[10] + 1.0 / Images);
        Assert.All(result.Index, q => Assert.InRange(q.ExactClassPrecisionAt10, 0, 1));

        using var index = ImageIndex.Open(result.IndexFolder);
        Assert.Equal(Images, index.Count);
        Assert.True(index.HasApproximateIndex);
        Assert.Equal(new HnswOptions().ExpansionSearch, index.ExpansionSearch);
        Assert.Contains("test-", result.ShardPattern);
        Assert.Contains("| alt-text (.txt) |", result.ToMarkdown());
    }
}
