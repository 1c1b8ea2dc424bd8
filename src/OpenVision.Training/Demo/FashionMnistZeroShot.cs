using OpenVision.Models;
using OpenVision.Text;
using OpenVision.Training.Data.Datasets;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Demo;

/// <summary>Zero-shot accuracy on Fashion-MNIST: class-name prompts through the text tower, test images through the
/// vision tower at the model's resolution, argmax of cosine similarity (the OpenVision evaluator's protocol).</summary>
public static class FashionMnistZeroShot
{
    /// <summary>Prompt templates for the ten classes.</summary>
    public static IReadOnlyList<string> Templates { get; } = ["a photo of a {}.", "a {}.", "a picture of a {}.", "{}"];

    /// <summary>Top-1 accuracy and predictions on the first <paramref name="limit"/> images of <paramref name="split"/>.</summary>
    public static (double Top1, int[] Predictions) Evaluate(OpenVisionModel model, OpenVisionTokenizer tokenizer, FashionMnistSplit split,
        int imageSize, int? limit = null, int batchSize = 250)
    {
        int count = Math.Min(limit ?? split.Count, split.Count);
        using var classifier = ZeroShotClassifier.Create(model, tokenizer, FashionMnist.PromptNames, Templates);
        var transform = new ImageTransform(OpenVisionEncoder.CreateTransformOptions(model.Config, imageSize));
        var predictions = new int[count];
        int correct = 0;
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            using var scope = NewDisposeScope();
            var pixels = transform.ToTensor(Enumerable.Range(start, n).Select(split.Image).ToList()).to(model.DType);
            var logits = classifier.Logits(model.EncodeImage(pixels));
            var argmax = logits.argmax(1).data<long>().ToArray();
            for (int i = 0; i < n; i++)
            {
                predictions[start + i] = (int)argmax[i];
                if (argmax[i] == split.Labels[start + i]) correct++;
            }
        }
        return ((double)correct / count, predictions);
    }
}
