using OpenVision.Configs;
using OpenVision.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Models;

/// <summary>An open_clip-compatible CLIP: vision tower under <c>visual.</c>, text tower at the top level, and
/// <c>logit_scale</c>. State-dict keys equal the Python reference's, so checkpoints load and save unchanged. A vision-only
/// config (OpenVision 2) builds the vision tower alone: no text tower, no <c>logit_scale</c>, and every text operation
/// throws <see cref="InvalidOperationException"/> naming the model.</summary>
public sealed partial class OpenVisionModel : nn.Module
{
    private readonly VisionTransformer visual;
    private Parameter? logit_scale;  // not readonly: ToInferenceDType keeps it in float32 for bfloat16 models

    /// <summary>Builds a randomly initialised model (open_clip's initialisation) in float32 on the CPU.</summary>
    public OpenVisionModel(ModelConfig config) : base(nameof(OpenVisionModel))
    {
        Config = config.Validate();
        visual = new VisionTransformer(config.VisionCfg, config.EmbedDim);
        if (config.OptionalTextCfg is { } textConfig)
        {
            (token_embedding, positional_embedding, transformer, ln_final, text_projection) = CreateTextTower(textConfig, config.EmbedDim);
            logit_scale = nn.Parameter(torch.tensor(config.InitLogitScale ?? Math.Log(1 / 0.07), ScalarType.Float32));
        }
        RegisterComponents();
    }

    /// <summary>The architecture and preprocessing.</summary>
    public ModelConfig Config { get; }

    /// <summary>The vision tower.</summary>
    public VisionTransformer Visual => visual;

    /// <summary>True when the model has a text tower (false for vision-only OpenVision 2 encoders).</summary>
    public bool HasTextTower => logit_scale is not null;

    /// <summary>The temperature parameter, in log space.</summary>
    public Parameter LogitScaleParameter => logit_scale ?? throw ModelConfig.VisionOnlyError(Config.Name);

    /// <summary>exp(logit_scale): the factor applied to cosine similarities.</summary>
    public double LogitScale
    {
        get
        {
            using var scope = torch.NewDisposeScope();   // no temporary left to the finalizer
            using var _ = torch.no_grad();
            return LogitScaleParameter.exp().to(ScalarType.Float64).item<double>();
        }
    }

    /// <summary>Element type the towers compute in (float32, float64, or bfloat16 after <see cref="ToInferenceDType"/>).</summary>
    // Read from a tower parameter: in a bfloat16 model logit_scale stays float32.
    public ScalarType DType => (text_projection ?? visual.Projection).dtype;

    /// <summary>Element type of every tensor the Encode*/Logits methods return: float32 for a bfloat16 model (so
    /// writers and downstream code never see bfloat16), otherwise <see cref="DType"/>.</summary>
    public ScalarType OutputDType => IsReducedPrecision(DType) ? ScalarType.Float32 : DType;

    /// <summary>Element types <see cref="ToInferenceDType"/> accepts.</summary>
    public static IReadOnlyList<ScalarType> InferenceDTypes { get; } = [ScalarType.Float32, ScalarType.Float64, ScalarType.BFloat16];

    /// <summary>Converts the model for inference in <paramref name="dtype"/> (float32, float64 or bfloat16). For
    /// bfloat16 the towers' weights are rounded to bfloat16 but logit_scale keeps its float32 value: in bfloat16
    /// ln(100) would round to 4.594 and every logit would be 1.1 % too small.</summary>
    public OpenVisionModel ToInferenceDType(ScalarType dtype)
    {
        if (!InferenceDTypes.Contains(dtype))
            throw new ArgumentException($"a model runs in {string.Join(", ", InferenceDTypes)}, not {dtype}", nameof(dtype));
        if (dtype == DType) return this;
        using var _ = torch.no_grad();
        if (logit_scale is null)
        {
            this.to(dtype);
            return this;
        }
        // Each step disposed (no dispose scope here: the converted parameters must outlive this call).
        using var detached = logit_scale.detach();
        using var widened = detached.to(ScalarType.Float32);
        using var scale = widened.clone();
        this.to(dtype);
        if (IsReducedPrecision(dtype))
        {
            var kept = new Parameter(scale.to(logit_scale.device), logit_scale.requires_grad);
            var rounded = logit_scale;
            logit_scale = kept;
            ConditionallyRegisterParameter(nameof(logit_scale), kept);
            rounded.Dispose();
        }
        return this;
    }

    private static bool IsReducedPrecision(ScalarType dtype) => dtype is ScalarType.BFloat16 or ScalarType.Float16;

    private static Tensor Widen(Tensor features) => IsReducedPrecision(features.dtype) ? features.to(ScalarType.Float32) : features;

    /// <summary>Device of the parameters.</summary>
    public Device Device => visual.Projection.device;

    /// <summary>Image features [B, E] in <see cref="OutputDType"/> for normalized pixels [B, 3, S, S] of any float type
    /// (any S ≥ patch size; see <see cref="VisionTransformer.PositionTable"/>).</summary>
    public Tensor EncodeImage(Tensor pixels, bool normalize = false) =>
        OnAdaptiveThreads("image", pixels, (start, count) => OnRows(pixels, start, count, rows => EncodeImageCore(rows, normalize)), Concatenate);

    private Tensor EncodeImageCore(Tensor pixels, bool normalize)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        // Normalised after the cast to the output type, so reduced precision adds no rounding to the unit vectors.
        var features = visual.call(ToModel(pixels)).to(OutputDType);
        if (normalize) features = nn.functional.normalize(features, dim: -1);
        return features.MoveToOuterDisposeScope();
    }

    /// <summary>Text features [B, E] for token ids [B, context_length] (int64), in <see cref="OutputDType"/>.</summary>
    /// <exception cref="ArgumentException">The ids are not int64 [B, context_length] or one is outside the vocabulary.</exception>
    public Tensor EncodeText(Tensor tokenIds, bool normalize = false)
    {
        // Checked whole before the rows are split across threads, so an error gives the id's index in the caller's tensor.
        TokenIdChecks.RequireTextIds(tokenIds, Config.TextCfg.ContextLength, Config.TextCfg.VocabSize);
        return OnAdaptiveThreads("text", tokenIds, (start, count) => OnRows(tokenIds, start, count, rows => EncodeTextCore(rows, normalize)), Concatenate);
    }

    private Tensor EncodeTextCore(Tensor tokenIds, bool normalize)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var features = ForwardText(tokenIds.to(Device)).Pooled.to(OutputDType);
        if (normalize) features = nn.functional.normalize(features, dim: -1);
        return features.MoveToOuterDisposeScope();
    }

    /// <summary>Image features plus patch tokens and the outputs of chosen blocks (open_clip's
    /// <c>forward_intermediates</c>; LLaVA reads block −2), all in <see cref="OutputDType"/>.</summary>
    /// <param name="pixels">[B, 3, S, S] normalized images.</param>
    /// <param name="layers">Block indices; negative counts from the end (−1 = last block, −2 = penultimate).</param>
    /// <param name="normalize">L2-normalize the pooled features.</param>
    public ImageEncoding EncodeImageDetailed(Tensor pixels, IEnumerable<int>? layers = null, bool normalize = false)
    {
        var requested = (layers ?? []).Select(ResolveLayer).ToList();
        return OnAdaptiveThreads("image", pixels, (start, count) => OnRows(pixels, start, count, rows => EncodeImageDetailedCore(rows, requested, normalize)),
            ImageEncoding.Concatenate);
    }

    private ImageEncoding EncodeImageDetailedCore(Tensor pixels, List<int> requested, bool normalize)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var output = visual.Forward(ToModel(pixels), requested.ToHashSet());
        var pooled = output.Pooled.to(OutputDType);
        var features = normalize ? nn.functional.normalize(pooled, dim: -1) : pooled;
        var hidden = requested.Distinct().ToDictionary(i => i, i => output.Hidden[i].to(OutputDType).MoveToOuterDisposeScope());
        return new ImageEncoding(features.MoveToOuterDisposeScope(), output.Tokens.to(OutputDType).contiguous().MoveToOuterDisposeScope(), hidden);
    }

    /// <summary>Maps a possibly negative block index to 0-based; throws if out of range.</summary>
    public int ResolveLayer(int layer)
    {
        int count = visual.Layers;
        int resolved = layer < 0 ? count + layer : layer;
        if (resolved < 0 || resolved >= count)
            throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} is outside the vision tower's {count} blocks (use 0..{count - 1} or -{count}..-1)");
        return resolved;
    }

    /// <summary><c>logits_per_image</c> [N, M] = exp(logit_scale) · normalize(image) @ normalize(text)ᵀ, in the
    /// features' type (reduced-precision features are widened to float32 first).</summary>
    public Tensor Logits(Tensor imageFeatures, Tensor textFeatures)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var image = nn.functional.normalize(Widen(imageFeatures), dim: -1);
        var texts = nn.functional.normalize(Widen(textFeatures), dim: -1);
        return (LogitScaleParameter.exp().to(image.dtype) * image.matmul(texts.T)).MoveToOuterDisposeScope();
    }

    /// <summary>Parameter counts: vision tower (<c>visual.*</c>, the paper's numbers), text tower and whole model.</summary>
    public ParameterCounts CountParameters()
    {
        long vision = 0, total = 0;
        foreach (var (name, p) in named_parameters())
        {
            total += p.numel();
            if (name.StartsWith("visual.", StringComparison.Ordinal)) vision += p.numel();
        }
        return new ParameterCounts(vision, total - vision - (HasTextTower ? 1 : 0), total);
    }

    /// <summary>How inference calls (<see cref="EncodeImage"/>, <see cref="EncodeText"/>,
    /// <see cref="EncodeImageDetailed"/>) use the CPU's threads: all on each call, or, while other processes compete for
    /// the cores and it measures faster, one thread for a single image and side-by-side parts of a batch.</summary>
    public ContentionAwareThreads Threads { get; } = new();

    private T OnAdaptiveThreads<T>(string task, Tensor input, Func<int, int, T> slice, Func<IReadOnlyList<T>, T> merge) where T : class, IDisposable
    {
        if (Device.type != DeviceType.CPU || input.dim() < 1) return slice(0, input.dim() < 1 ? 0 : (int)input.size(0));
        return Threads.Run(task, task == "image" && input.dim() == 4 ? (int)input.size(3) : 0, (int)input.size(0), slice, merge);
    }

    // A call without parts sees the caller's tensor itself; a part, a view of its rows that it disposes (part threads
    // have no dispose scope: a view left undisposed would wait for the finalizer).
    private static T OnRows<T>(Tensor input, int start, int count, Func<Tensor, T> call)
    {
        if (input.dim() < 1 || start == 0 && count == input.size(0)) return call(input);
        using var rows = input.narrow(0, start, count);
        return call(rows);
    }

    private static Tensor Concatenate(IReadOnlyList<Tensor> parts) => torch.cat(parts.ToArray(), dim: 0);

    // The vision tower casts images of another type itself, or rounds them as it cuts out the patches where its kernels
    // take them as they are (float32 images for a bfloat16 model: no cast's pass).
    private Tensor ToModel(Tensor pixels) => pixels.to(Device);
}

/// <summary>Outputs of <see cref="OpenVisionModel.EncodeImageDetailed"/>; the caller disposes the tensors.</summary>
/// <param name="Features">Image features [B, E].</param>
/// <param name="Tokens">Last-block patch tokens [B, G, W].</param>
/// <param name="Hidden">Block outputs [B, 1+G, W] (class token first) by 0-based block index.</param>
public sealed record ImageEncoding(Tensor Features, Tensor Tokens, IReadOnlyDictionary<int, Tensor> Hidden) : IDisposable
{
    /// <summary>The encodings of consecutive parts of a batch as one (new tensors; the parts stay the caller's).</summary>
    internal static ImageEncoding Concatenate(IReadOnlyList<ImageEncoding> parts) => new(
        torch.cat(parts.Select(p => p.Features).ToArray(), dim: 0),
        torch.cat(parts.Select(p => p.Tokens).ToArray(), dim: 0),
        parts[0].Hidden.Keys.ToDictionary(i => i, i => torch.cat(parts.Select(p => p.Hidden[i]).ToArray(), dim: 0)));

    /// <inheritdoc/>
    public void Dispose()
    {
        Features.Dispose();
        Tokens.Dispose();
        foreach (var t in Hidden.Values) t.Dispose();
    }
}

/// <summary>Parameter counts of a model.</summary>
/// <param name="Vision">Parameters under <c>visual.</c> (positional table and projection included).</param>
/// <param name="Text">Text tower parameters.</param>
/// <param name="Total">All parameters, logit_scale included.</param>
public sealed record ParameterCounts(long Vision, long Text, long Total);
