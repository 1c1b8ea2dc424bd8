using OpenVision.Pipelines;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Zero-shot class weights by OpenVision's protocol (big_vision discriminative_classifier, the same as
/// <see cref="ZeroShotClassifier"/> but for any <see cref="IEvaluationEncoder"/>): names and templates
/// canonicalised, every (class × template) prompt embedded and L2-normalised, the per-class mean re-normalised
/// with +1e-8.</summary>
public static class ZeroShotWeights
{
    /// <summary>Class weights [C, E] with unit rows, in the dtype the encoder returns.</summary>
    /// <param name="encoder">The model's text side.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="templates">Templates with <c>{}</c> for the name.</param>
    /// <param name="canonicalize">Canonicalise names (keeping commas) and templates (keeping <c>{}</c>).</param>
    /// <param name="promptsPerCall">Prompts handed to the encoder at once.</param>
    /// <param name="progress">Receives a "prompts" report after each call (ImageNet has 81,000 prompts).</param>
    public static Tensor Build(IEvaluationEncoder encoder, IReadOnlyList<string> classNames, IReadOnlyList<string> templates,
        bool canonicalize = true, int promptsPerCall = 1024, IProgress<EvaluationProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (classNames is not { Count: > 0 }) throw new ArgumentException("at least one class name is needed", nameof(classNames));
        if (templates is not { Count: > 0 }) throw new ArgumentException("at least one template is needed", nameof(templates));
        if (classNames.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("class names must not be empty", nameof(classNames));
        var names = canonicalize ? classNames.Select(n => PromptSets.Canonicalize(n, ",")).ToList() : classNames.ToList();
        var filled = canonicalize ? templates.Select(t => PromptSets.Canonicalize(t, "{}")).ToList() : templates.ToList();
        var prompts = names.SelectMany(n => filled.Select(t => PromptSets.Fill(t, n))).ToList();

        using var scope = torch.NewDisposeScope();
        var meter = new ProgressMeter(prompts.Count);
        var parts = new List<Tensor>();
        for (int start = 0; start < prompts.Count; start += promptsPerCall)
        {
            var chunk = prompts.GetRange(start, Math.Min(promptsPerCall, prompts.Count - start));
            var features = encoder.EncodeTexts(chunk);
            if (features.ndim != 2 || features.shape[0] != chunk.Count)
                throw new InvalidOperationException($"the encoder returned [{string.Join(", ", features.shape)}] features for {chunk.Count} texts");
            parts.Add(nn.functional.normalize(features.detach().cpu(), dim: -1));
            progress?.Report(new EvaluationProgress("prompts", meter.Add(chunk.Count)));
        }
        var all = torch.cat(parts, 0).view(names.Count, filled.Count, -1);   // [C, T, E]
        var mean = all.mean([1]);                                             // [C, E]
        return (mean / (mean.norm(1, keepdim: true) + 1e-8)).MoveToOuterDisposeScope();
    }
}
