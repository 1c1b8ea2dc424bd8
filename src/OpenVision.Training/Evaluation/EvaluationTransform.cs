using OpenVision.Vision;

namespace OpenVision.Training.Evaluation;

/// <summary>The image transform of an evaluation: the model's own, optionally with another resize mode.</summary>
public static class EvaluationTransform
{
    /// <summary>The encoder's transform with <paramref name="resize"/> instead of its resize mode, when given.</summary>
    public static ImageTransform For(OpenVisionEncoder encoder, ResizeMode? resize)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        var options = encoder.Transform.Options;
        return new ImageTransform(resize is { } mode ? options with { Mode = mode } : options);
    }
}
