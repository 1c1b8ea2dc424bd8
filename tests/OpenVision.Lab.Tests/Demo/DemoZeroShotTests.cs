using OpenVision.Lab.Datasets;
using OpenVision.Lab.Demo;
using OpenVision.Models;
using OpenVision.Training;
using OpenVision.Training.Evaluation;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Tests.Demo;

/// <summary>The demo's zero-shot evaluation runs through the harness; its numbers must be the ones the demo's former
/// code computed: the library's classifier over the in-memory test split, batch by batch, argmax of the logits.</summary>
public class DemoZeroShotTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("ov-demo-").FullName;

    public void Dispose() => Directory.Delete(folder, true);

    [Fact]
    public void HarnessEvaluationEqualsTheClassifierOnTheSplit()
    {
        var files = WriteFakeFashionMnist(40);
        torch.manual_seed(11);
        // float64 so that no near-tie between two classes can round differently on the two paths.
        using var model = new OpenVisionModel(FashionMnistDemo.ModelConfig).to(ScalarType.Float64);
        model.eval();
        const int imageSize = 16, limit = 30;

        var report = FashionMnistZeroShot.Evaluate(model, FashionMnistZeroShot.TestSource(files, limit), imageSize);

        var split = FashionMnist.ReadTest(folder);
        var tokenizer = OpenVisionEncoder.CreateTokenizer(model.Config);
        using var classifier = ZeroShotClassifier.Create(model, tokenizer, FashionMnist.PromptNames, FashionMnistZeroShot.Templates);
        var transform = new ImageTransform(OpenVisionEncoder.CreateTransformOptions(model.Config, imageSize));
        var expected = new ClassificationTally(FashionMnist.PromptNames.Count);
        var expectedTop1 = new List<int>();
        using (var scope = NewDisposeScope())
        {
            var pixels = transform.ToTensor(Enumerable.Range(0, limit).Select(split.Image).ToList()).to(model.DType);
            var ranked = classifier.Logits(model.EncodeImage(pixels)).argsort(1, descending: true).contiguous().data<long>().ToArray();
            for (int i = 0; i < limit; i++) expected.Add(split.Labels[i], ranked.AsSpan(i * 10, 10));
            for (int i = 0; i < limit; i++) expectedTop1.Add((int)ranked[i * 10]);
        }

        // A comparison worth making: the random model does not put every image in one class.
        Assert.True(Enumerable.Range(0, 10).Count(p => Enumerable.Range(0, 10).Sum(t => expected.Count(t, p)) > 0) > 1);
        Assert.Equal(limit, report.Tally.Samples);
        Assert.Equal(expected.Confusion(), report.Tally.Confusion());
        Assert.Equal(expected.Top1, report.Top1);
        Assert.Equal(expectedTop1, report.Predictions);   // per image, in the source's order (what precision agreement compares)
        Assert.Equal(limit, report.Throughput!.Images);
        Assert.Equal("fashion-mnist", report.Dataset);
        Assert.Contains($"{imageSize}px", report.Transform);
        // The model stays usable (the harness must not dispose it): it is the trainer's.
        Assert.Equal(ScalarType.Float64, model.DType);
    }

    // IDX files of n random 28×28 images (labels i mod 10), named as the Fashion-MNIST downloads.
    private FashionMnistFiles WriteFakeFashionMnist(int n)
    {
        var pixels = new byte[n * 784];
        new Random(3).NextBytes(pixels);
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        foreach (var prefix in new[] { "train", "t10k" })
        {
            IdxFile.Write(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), [n, 28, 28], pixels);
            IdxFile.Write(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), [n], labels);
        }
        return FashionMnist.Locate(folder);
    }
}
