using OpenVision.Vision;
using OpenVision.ZeroShot;

namespace OpenVision.Training.Evaluation;

/// <summary>Settings of a zero-shot classification run; the defaults are OpenVision's protocol.</summary>
public sealed record ZeroShotOptions
{
    /// <summary>Prompt templates with <c>{}</c>; the default is the 81 CLIP-paper templates OpenVision uses.</summary>
    public IReadOnlyList<string> Templates { get; init; } = PromptSets.ClipPaperTemplates;

    /// <summary>Canonicalise names and templates as big_vision does (OpenVision: true).</summary>
    public bool Canonicalize { get; init; } = true;

    /// <summary>Resize mode; null follows the model's config (squash for released OpenVision models). The paper's
    /// numbers used <see cref="ResizeMode.JaxCenterCrop"/>; <see cref="ResizeMode.Shortest"/> is open_clip's crop.</summary>
    public ResizeMode? Resize { get; init; }

    /// <summary>Images per model call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Receives progress after every batch.</summary>
    public IProgress<EvaluationProgress>? Progress { get; init; }

    /// <summary>Evaluator name (metric prefix); null uses "&lt;dataset&gt;-zeroshot".</summary>
    public string? Name { get; init; }
}
