using OpenVision.Lab.Datasets;
using OpenVision.Models;
using OpenVision.Training;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;

namespace OpenVision.Lab.Demo;

/// <summary>The demo's zero-shot settings on Fashion-MNIST, run by the evaluation harness
/// (<see cref="ZeroShotEvaluator"/> over the IDX test files, the same code as <c>openvision eval zeroshot</c>):
/// class-name prompts with four templates taken verbatim, test images at the resolution the model is trained at,
/// argmax of cosine similarity (the OpenVision evaluator's protocol).</summary>
public static class FashionMnistZeroShot
{
    /// <summary>Prompt templates for the ten classes.</summary>
    public static IReadOnlyList<string> Templates { get; } = ["a photo of a {}.", "a {}.", "a picture of a {}.", "{}"];

    /// <summary>Images per image-tower call.</summary>
    public const int BatchSize = 250;

    /// <summary>The evaluator settings: <see cref="Templates"/> with <see cref="FashionMnist.PromptNames"/>, verbatim
    /// (the names are already prompt-ready; canonicalising would turn "t-shirt" into "tshirt").</summary>
    public static ZeroShotOptions Options { get; } = new() { Templates = Templates, Canonicalize = false, BatchSize = BatchSize };

    /// <summary>The test split as an evaluation source, streamed from its IDX files and named with the prompt
    /// names; only the first <paramref name="limit"/> images when given (the quick per-stage evaluations).</summary>
    public static ILabeledImageSource TestSource(FashionMnistFiles files, int? limit = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        var source = new IdxLabeledSource(files.TestImages, files.TestLabels, FashionMnist.PromptNames, "fashion-mnist");
        return limit is { } count ? LabeledImageSource.First(source, count) : source;
    }

    /// <summary>Zero-shot top-1 (and the rest of the report) of <paramref name="model"/> at <paramref name="imageSize"/>
    /// pixels on <paramref name="test"/>. The caller keeps the model, which may go on training.</summary>
    public static ZeroShotReport Evaluate(OpenVisionModel model, ILabeledImageSource test, int imageSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        // Not disposed: the encoder would dispose the model, which belongs to the caller (the trainer).
        var encoder = OpenVisionEncoder.FromModel(model, imageSize);
        return new ZeroShotEvaluator(test, Options).Evaluate(encoder, cancellationToken);
    }
}
