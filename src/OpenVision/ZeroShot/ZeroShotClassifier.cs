using OpenVision.Models;
using OpenVision.Native;
using OpenVision.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.ZeroShot;

/// <summary>A zero-shot classifier: one weight vector per class, the re-normalised mean of the normalised text
/// embeddings of every template filled with the class name (CLIP, and OpenVision's evaluator).</summary>
public sealed class ZeroShotClassifier : IDisposable
{
    // big_vision's +1e-8 in the normalisation, as a Scalar that is never finalized (see Native.KeptScalars).
    private static readonly Scalar NormEpsilon = 1e-8.ToScalar();

    private readonly Tensor weights;   // [C, E], unit rows, the text encoder's output type (float32 for bfloat16 models)
    private readonly Scalar logitScale; // LogitScale for mul: alive as long as the classifier, unlike `double * tensor`'s temporary

    private ZeroShotClassifier(Tensor weights, IReadOnlyList<string> classNames, double logitScale)
    {
        this.weights = weights;
        ClassNames = classNames;
        LogitScale = logitScale;
        this.logitScale = logitScale.ToScalar();
    }

    /// <summary>Class names in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>exp(logit_scale) of the model, used to turn cosine similarities into logits.</summary>
    public double LogitScale { get; }

    /// <summary>Class weights [C, E] (unit rows). The classifier owns the tensor.</summary>
    public Tensor Weights => weights;

    /// <summary>Builds class weights by encoding class names × templates with the model's text tower.</summary>
    /// <param name="model">The model whose text tower encodes the prompts.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="templates">Prompt templates with <c>{}</c> for the name; null uses the name alone.</param>
    /// <param name="canonicalize">Apply big_vision's canonicalisation to names and templates, as OpenVision's evaluator does.</param>
    /// <param name="textBatchSize">Prompts encoded per text-tower call.</param>
    public static ZeroShotClassifier Create(OpenVisionModel model, OpenVisionTokenizer tokenizer, IReadOnlyList<string> classNames,
        IReadOnlyList<string>? templates = null, bool canonicalize = false, int textBatchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Create(prompts =>
        {
            using var ids = torch.tensor(tokenizer.EncodeBatch(prompts));
            return model.EncodeText(ids, normalize: true);
        }, model.LogitScale, classNames, templates, canonicalize, textBatchSize);
    }

    /// <summary>Builds class weights with any text encoder (the TorchSharp model or another backend).</summary>
    /// <param name="encodeNormalizedTexts">Returns L2-normalized text embeddings [N, E] for N prompts; the classifier disposes them.</param>
    /// <param name="logitScale">exp(logit_scale) of the model.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="templates">Prompt templates with <c>{}</c> for the name; null uses the name alone.</param>
    /// <param name="canonicalize">Apply big_vision's canonicalisation to names and templates, as OpenVision's evaluator does.</param>
    /// <param name="textBatchSize">Prompts per encoder call.</param>
    public static ZeroShotClassifier Create(Func<IReadOnlyList<string>, Tensor> encodeNormalizedTexts, double logitScale, IReadOnlyList<string> classNames,
        IReadOnlyList<string>? templates = null, bool canonicalize = false, int textBatchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(encodeNormalizedTexts);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0) throw new ArgumentException("at least one class name is needed");
        templates ??= PromptSets.Identity;
        if (templates.Count == 0) throw new ArgumentException("at least one template is needed");
        var emptyName = classNames.FirstOrDefault(string.IsNullOrWhiteSpace);
        if (emptyName is not null) throw new ArgumentException("class names must not be empty");
        var names = canonicalize ? classNames.Select(n => PromptSets.Canonicalize(n, ",")).ToList() : classNames.ToList();
        var filled = canonicalize ? templates.Select(t => PromptSets.Canonicalize(t, "{}")).ToList() : templates.ToList();

        using var scope = torch.NewDisposeScope();
        var prompts = names.SelectMany(n => filled.Select(t => PromptSets.Fill(t, n))).ToList();
        var perPrompt = new List<Tensor>();
        for (int start = 0; start < prompts.Count; start += textBatchSize)
            perPrompt.Add(encodeNormalizedTexts(prompts.GetRange(start, Math.Min(textBatchSize, prompts.Count - start))));
        var all = torch.cat(perPrompt, 0).view(names.Count, filled.Count, -1);   // [C, T, E]
        var mean = all.mean([1]);                                                  // [C, E]
        var classWeights = mean.div(mean.norm(1, keepdim: true).add(NormEpsilon, KeptScalars.One));   // big_vision: normalize with +1e-8
        return new ZeroShotClassifier(classWeights.MoveToOuterDisposeScope(), classNames, logitScale);
    }

    /// <summary>Logits [N, C] = exp(logit_scale) · normalize(features) @ weightsᵀ.</summary>
    public Tensor Logits(Tensor imageFeatures)
    {
        using var scope = torch.NewDisposeScope();
        var image = nn.functional.normalize(imageFeatures.to(weights.dtype, weights.device), dim: -1);
        return image.matmul(weights.T).mul(logitScale).MoveToOuterDisposeScope();
    }

    /// <summary>Softmax probabilities [N, C].</summary>
    public Tensor Probabilities(Tensor imageFeatures)
    {
        using var logits = Logits(imageFeatures);
        return logits.softmax(-1);
    }

    /// <summary>The <paramref name="k"/> most probable classes for each image, best first.</summary>
    public IReadOnlyList<IReadOnlyList<ClassScore>> Top(Tensor imageFeatures, int k)
    {
        using var scope = torch.NewDisposeScope();
        var probabilities = Probabilities(imageFeatures).to(ScalarType.Float64).cpu();
        k = Math.Min(k, ClassNames.Count);
        var (values, indices) = probabilities.topk(k, dim: 1);
        var result = new List<IReadOnlyList<ClassScore>>();
        for (long i = 0; i < probabilities.shape[0]; i++)
        {
            var row = new List<ClassScore>(k);
            for (long j = 0; j < k; j++)
            {
                int index = (int)indices[i, j].item<long>();
                row.Add(new ClassScore(index, ClassNames[index], values[i, j].item<double>()));
            }
            result.Add(row);
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        weights.Dispose();
        logitScale.Dispose();
    }
}

/// <summary>One class and its probability.</summary>
/// <param name="Index">Label index.</param>
/// <param name="Label">Class name.</param>
/// <param name="Probability">Softmax probability.</param>
public sealed record ClassScore(int Index, string Label, double Probability);
