using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training.Models;

/// <summary>An <see cref="OpenVisionModel"/> plus the CLIPS caption decoder, computing OpenVision's training losses
/// (<c>two_towers.Model</c> + <c>main_clip.py</c> <c>loss_type='coca'</c>).</summary>
/// <remarks>A module laid out as open_clip's CoCa: the CLIP's parts (<c>visual</c>, the text tower's modules,
/// <c>logit_scale</c>, ...) registered under their own names beside the decoder's <c>text_decoder</c>, so its state dict
/// is the CLIP's open_clip keys plus the decoder's under <see cref="DecoderPrefix"/> (see <see cref="CaptionDecoder"/>),
/// and parameters, conversions and state dicts come from TorchSharp. The vision positional table is frozen:
/// OpenVision's JAX ViT computes its 2-D sin-cos table instead of learning it.</remarks>
public sealed class ClipsTrainingModel : TrainingModel
{
    /// <summary>Prefix of the decoder's keys in a training checkpoint.</summary>
    public const string DecoderPrefix = "text_decoder.";

    private static readonly IReadOnlySet<int> NoLayers = new HashSet<int>();

    private readonly CaptionDecoder text_decoder;   // open_clip CoCa: text_decoder

    /// <summary>Wraps <paramref name="clip"/> (which it then owns) with a new decoder in the CLIP's dtype and device.</summary>
    /// <param name="clip">The model being trained.</param>
    /// <param name="decoder">Decoder architecture; <see cref="DecoderConfig.For(ModelConfig)"/> gives OpenVision's.</param>
    /// <param name="weights">Loss weights; OpenVision's 1 and 2 when null.</param>
    public ClipsTrainingModel(OpenVisionModel clip, DecoderConfig decoder, LossWeights? weights = null) : base(nameof(ClipsTrainingModel))
    {
        ArgumentNullException.ThrowIfNull(clip);
        Clip = clip;
        text_decoder = new CaptionDecoder(decoder, clip.Visual.Config.Width, clip.TextConfig.Width);
        text_decoder.to(clip.DType).to(clip.Device);
        Weights = weights ?? LossWeights.OpenVision;
        foreach (var (name, parameter) in clip.Visual.named_parameters())
            if (name == "positional_embedding") parameter.requires_grad = false;
        // The CLIP's own parameters first, then its submodules, then the decoder: named_parameters() yields them in
        // the order the optimizer state of earlier checkpoints was saved in.
        AdoptClipParameters();
        foreach (var (name, child) in clip.named_children()) register_module(name, child);
        register_module("text_decoder", text_decoder);
    }

    /// <summary>A freshly initialised OpenVision model and its family's decoder (<see cref="DecoderConfig.For(ModelConfig)"/>).</summary>
    public static ClipsTrainingModel Create(ModelConfig config, LossWeights? weights = null) =>
        new(new OpenVisionModel(config), DecoderConfig.For(config), weights);

    /// <summary>The CLIP (vision and text towers, logit scale).</summary>
    public override OpenVisionModel Clip { get; }

    /// <inheritdoc/>
    public override double Temperature => Clip.LogitScale;

    /// <inheritdoc/>
    public override IEnumerable<Tensor> FloatingBuffers() => Clip.buffers().Concat(Decoder.buffers()).Where(b => b.is_floating_point());

    /// <summary>OpenVision's CLIPS losses with <see cref="ExactAccumulation"/> (the step context is not used).</summary>
    public override (double Contrastive, double Caption, double Total) Backward(IReadOnlyList<TrainingBatch> microBatches,
        IDistributedContext distributed, TrainStepContext context) => ExactAccumulation.Backward(this, microBatches, distributed);

    /// <summary>Writes the CLIP in open_clip's layout, and the CLIPS decoder beside it for <see cref="ClipsCaptioner"/>
    /// (<c>clips_decoder.safetensors</c>, <c>clips_decoder_config.json</c>; open_clip and the encoder ignore them).</summary>
    public override void SaveModel(string folder)
    {
        ModelFactory.Save(Clip, folder);
        ClipsCaptioner.SaveDecoder(Decoder, folder);
    }

    /// <summary>The caption decoder (<c>text_decoder</c>).</summary>
    public CaptionDecoder Decoder => text_decoder;

    /// <summary>Weights of the contrastive and caption losses.</summary>
    public LossWeights Weights { get; }

    /// <summary>The training losses for one batch, with autograd (call <c>Total.backward()</c>); the caller disposes them.</summary>
    /// <param name="pixels">Normalized images [B, 3, S, S]; any S the vision tower accepts (progressive resolution).</param>
    /// <param name="altTextIds">Alt-text ids [B, L] (L = context length, 80), int64: contrastive text set 1 and decoder prefix.</param>
    /// <param name="subCaptionIds">Synthetic-caption sentence ids [B, L], int64: contrastive text set 2.</param>
    /// <param name="captionIds">Full synthetic-caption ids [B, Q] (Q = decoder queries, 128), int64: the decoder's targets.</param>
    /// <param name="distributed">In a data-parallel run, the ranks: the batch is this rank's share, the contrastive
    /// loss scores its rows against every rank's features, and both losses are scaled so that their mean over ranks
    /// (which gradient averaging differentiates) equals the one-process loss of the global batch. One process is
    /// <see cref="SingleProcessContext"/>.</param>
    public LossBreakdown Forward(Tensor pixels, Tensor altTextIds, Tensor subCaptionIds, Tensor captionIds, IDistributedContext distributed)
    {
        ArgumentNullException.ThrowIfNull(distributed);
        long batch = pixels.shape[0];
        if (altTextIds.shape[0] != batch || subCaptionIds.shape[0] != batch || captionIds.shape[0] != batch)
            throw new ArgumentException($"batch sizes differ: pixels {batch}, alt-texts {altTextIds.shape[0]}, sub-captions {subCaptionIds.shape[0]}, captions {captionIds.shape[0]}");
        if (captionIds.ndim != 2 || captionIds.shape[1] != Decoder.Config.QueryTokens)
            throw new ArgumentException($"caption ids must be [B, {Decoder.Config.QueryTokens}] (one per decoder query), got [{string.Join(", ", captionIds.shape)}]");
        using var scope = torch.NewDisposeScope();
        using var encoded = Encode(pixels, altTextIds, subCaptionIds);
        var contrastive = ContrastiveFromFeatures(encoded.Features, distributed);
        double? denominator = distributed.WorldSize > 1 ? CaptionDenominator(CaptionLoss.TokenCount(captionIds), distributed) : null;
        var caption = CaptionFromEncoding(encoded, captionIds, denominator);

        var losses = LossBreakdown.Combine(contrastive, caption, Weights);
        losses.Contrastive.MoveToOuterDisposeScope();
        losses.Caption.MoveToOuterDisposeScope();
        losses.Total.MoveToOuterDisposeScope();
        return losses;
    }

    /// <summary>The training losses for one process's batch (a world of one, <see cref="SingleProcessContext"/>).</summary>
    public LossBreakdown Forward(Tensor pixels, Tensor altTextIds, Tensor subCaptionIds, Tensor captionIds) =>
        Forward(pixels, altTextIds, subCaptionIds, captionIds, SingleProcessContext.Instance);

    /// <summary>Runs both towers on a batch: the contrastive features and what the caption decoder reads. With autograd
    /// unless the caller disabled it; the caller disposes the result.</summary>
    /// <param name="pixels">Normalized images [B, 3, S, S].</param>
    /// <param name="altTextIds">Alt-text ids [B, L], int64.</param>
    /// <param name="subCaptionIds">Synthetic-caption sentence ids [B, L], int64.</param>
    public BatchEncoding Encode(Tensor pixels, Tensor altTextIds, Tensor subCaptionIds)
    {
        long batch = pixels.shape[0];
        if (altTextIds.shape[0] != batch || subCaptionIds.shape[0] != batch)
            throw new ArgumentException($"batch sizes differ: pixels {batch}, alt-texts {altTextIds.shape[0]}, sub-captions {subCaptionIds.shape[0]}");
        using var scope = torch.NewDisposeScope();
        var device = Clip.Device;
        var vision = Clip.Visual.Forward(pixels.to(Clip.DType, device), NoLayers);   // Pooled [B, E], Tokens [B, G, Wv]
        // Both text sets in one pass, as JAX concatenates labels1 and labels2: [2B, L].
        var text = Clip.ForwardText(torch.cat([altTextIds.to(device), subCaptionIds.to(device)], 0));
        var imageFeatures = ContrastiveLoss.Normalize(vision.Pooled);                // [B, E]
        var textFeatures = ContrastiveLoss.Normalize(text.Pooled);                   // [2B, E]
        var features = torch.cat([imageFeatures, textFeatures.narrow(0, 0, batch), textFeatures.narrow(0, batch, batch)], 1);   // [B, 3E]
        // The decoder reads the alt-text only (JAX: token_embs[:B]), pre-ln_final states without the class position.
        var altTextStates = text.Encoded.narrow(0, 0, batch).narrow(1, 0, text.Encoded.shape[1] - 1);   // [B, L-1, Wt]
        return new BatchEncoding(features.MoveToOuterDisposeScope(), vision.Tokens.MoveToOuterDisposeScope(), altTextStates.MoveToOuterDisposeScope());
    }

    /// <summary>The contrastive loss (mean over the two text sets) of features laid out as <see cref="BatchEncoding.Features"/>,
    /// with gradients into the features and the temperature.</summary>
    /// <param name="features">[B, 3E]: normalized image, alt-text and sub-caption features side by side.</param>
    /// <param name="distributed">In a data-parallel run, the ranks: these rows are scored against every rank's
    /// (one differentiable all-gather); the mean over ranks is the global-batch loss. One process is
    /// <see cref="SingleProcessContext"/>.</param>
    public Tensor ContrastiveFromFeatures(Tensor features, IDistributedContext distributed)
    {
        ArgumentNullException.ThrowIfNull(distributed);
        if (features.ndim != 2 || features.shape[1] % 3 != 0)
            throw new ArgumentException($"contrastive features must be [B, 3E], got [{string.Join(", ", features.shape)}]");
        using var scope = torch.NewDisposeScope();
        long width = features.shape[1] / 3, batch = features.shape[0];
        var scale = Clip.LogitScaleParameter.exp();                                  // t = exp(logit_scale), no clamp
        Tensor[] localTexts = [features.narrow(1, width, width), features.narrow(1, 2 * width, width)];
        var image = features.narrow(1, 0, width);
        if (distributed.WorldSize == 1)
            return ContrastiveLoss.Compute(image, localTexts, scale).MoveToOuterDisposeScope();
        // open_clip's gather_with_grad + local_loss (OpenVision's local_loss=True): one differentiable all-gather of
        // the three feature sets side by side, then this rank's rows against all N columns, labels offset by rank·b.
        var all = distributed.AllGather(features);                                    // [N, 3E]
        return ContrastiveLoss.Local(image, localTexts, all.narrow(1, 0, width),
            [all.narrow(1, width, width), all.narrow(1, 2 * width, width)], scale, distributed.Rank * batch).MoveToOuterDisposeScope();
    }

    /// <summary>The caption loss of an encoded batch: the decoder's token cross-entropy summed over real tokens and
    /// divided by <paramref name="denominator"/> (null: this batch's real-token count, the batch mean).</summary>
    /// <param name="encoded">The batch's <see cref="Encode"/> result.</param>
    /// <param name="captionIds">Full synthetic-caption ids [B, Q] (Q = decoder queries), int64: the decoder's targets.</param>
    /// <param name="denominator">Pass <see cref="CaptionDenominator"/> of a larger batch's token count when this batch is
    /// one part of it (a micro-batch, a rank's share): the parts then sum (or, over ranks, average) to its token mean.</param>
    public Tensor CaptionFromEncoding(BatchEncoding encoded, Tensor captionIds, double? denominator = null)
    {
        if (captionIds.ndim != 2 || captionIds.shape[0] != encoded.Features.shape[0] || captionIds.shape[1] != Decoder.Config.QueryTokens)
            throw new ArgumentException($"caption ids must be [{encoded.Features.shape[0]}, {Decoder.Config.QueryTokens}] (one per decoder query), got [{string.Join(", ", captionIds.shape)}]");
        using var scope = torch.NewDisposeScope();
        var states = Decoder.QueryStates(encoded.VisionTokens, encoded.AltTextStates);   // [B, Q, W]
        return CaptionLoss.FromStates(states, Decoder.Head, captionIds, denominator: denominator).MoveToOuterDisposeScope();
    }

    /// <summary>The caption-loss divisor for one part of a batch whose real targets number <paramref name="localTokens"/>
    /// on this rank: (global count + 1e-8) / N, the global count summed over ranks (one all-reduce).</summary>
    /// <remarks>The caption loss is a mean over the global batch's tokens, not a mean of per-rank means (JAX's pmean
    /// of local means, which differs when ranks hold different numbers of tokens): dividing each rank's token sum by
    /// (global tokens / N) makes the mean over ranks the one-process value for any N, so curves do not depend on N.</remarks>
    public static double CaptionDenominator(long localTokens, IDistributedContext distributed)
    {
        ArgumentNullException.ThrowIfNull(distributed);
        Span<double> tokens = [localTokens];
        distributed.AllReduceSum(tokens);
        return (tokens[0] + 1e-8) / distributed.WorldSize;
    }

    /// <inheritdoc/>
    public override void Train(bool training = true)
    {
        train(training);
        Clip.train(training);   // the CLIP object itself is not one of this module's children
    }

    /// <summary>Converts the parameters (TorchSharp's <c>to</c>); parameter objects are replaced, so build optimizers afterwards.</summary>
    public ClipsTrainingModel To(ScalarType dtype)
    {
        this.to(dtype);
        return this;
    }

    /// <summary>Moves the parameters (TorchSharp's <c>to</c>); parameter objects are replaced, so build optimizers afterwards.</summary>
    public ClipsTrainingModel To(Device device)
    {
        this.to(device);
        return this;
    }

    // TorchSharp's own conversion would replace the CLIP's direct parameters (logit_scale, text_projection, ...) in
    // this module only, leaving the CLIP's fields on the old tensors: convert the CLIP and the decoder themselves, then
    // register the CLIP's new parameter objects here again.
    /// <inheritdoc/>
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        Clip.to(dtype);
        text_decoder.to(dtype);
        AdoptClipParameters();
        return this;
    }

    /// <inheritdoc/>
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        Clip.to(dtype).to(device);
        text_decoder.to(dtype).to(device);
        AdoptClipParameters();
        return this;
    }

    /// <inheritdoc/>
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        Clip.to(deviceType, deviceIndex);
        text_decoder.to(deviceType, deviceIndex);
        AdoptClipParameters();
        return this;
    }

    // Registration is explicit (constructor): reflection would also register the Clip property's backing field.
    /// <inheritdoc/>
    protected override void RegisterComponents() { }

    private void AdoptClipParameters()
    {
        foreach (var (name, parameter) in Clip.named_parameters(recurse: false)) ConditionallyRegisterParameter(name, parameter);
    }

    /// <summary>The training checkpoint: the CLIP's open_clip state dict plus the decoder under <see cref="DecoderPrefix"/>.</summary>
    /// <param name="dtype">Floating-point type to write, or each tensor's own.</param>
    public Dictionary<string, TensorData> ExportStateDict(ScalarType? dtype = null)
    {
        return StateDictLoader.Export(this, dtype);
    }

    /// <summary>Loads a training checkpoint, or (with <paramref name="requireDecoder"/> false) a plain open_clip one,
    /// keeping the decoder's current weights. Every key is checked before anything is copied.</summary>
    /// <exception cref="CheckpointFormatException">A key is missing, unexpected or mis-shaped.</exception>
    public LoadReport LoadStateDict(IReadOnlyDictionary<string, TensorData> tensors, string source, bool requireDecoder = true)
    {
        var clipPart = tensors.Where(kv => !kv.Key.StartsWith(DecoderPrefix, StringComparison.Ordinal)).ToDictionary();
        var decoderPart = tensors.Where(kv => kv.Key.StartsWith(DecoderPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[DecoderPrefix.Length..], kv => kv.Value);
        var clipReport = StateDictLoader.Check(Clip, clipPart, source);
        var decoderReport = StateDictLoader.Check(Decoder, decoderPart, source);
        var report = new LoadReport(source,
            [.. clipReport.Missing, .. decoderReport.Missing.Select(k => DecoderPrefix + k)],
            [.. clipReport.Unexpected, .. decoderReport.Unexpected.Select(k => DecoderPrefix + k)],
            [.. clipReport.Mismatched, .. decoderReport.Mismatched.Select(k => DecoderPrefix + k)]);
        bool decoderAbsent = decoderPart.Count == 0 && !requireDecoder;
        if (decoderAbsent) clipReport.ThrowIfIncompatible();
        else report.ThrowIfIncompatible();
        StateDictLoader.Load(Clip, clipPart, source);
        if (!decoderAbsent) StateDictLoader.Load(Decoder, decoderPart, source);
        return report;
    }

    /// <summary>Writes <see cref="ExportStateDict"/> as a safetensors file.</summary>
    public override void Save(string path, ScalarType? dtype = null) => SafetensorsFile.Write(path, ExportStateDict(dtype));

    /// <summary>Reads a safetensors checkpoint with <see cref="LoadStateDict"/>.</summary>
    public override LoadReport Load(string path, bool requireDecoder = true) => LoadStateDict(SafetensorsFile.Read(path), path, requireDecoder);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Clip.Dispose();   // what the CLIP holds beyond the parts registered here
    }
}
