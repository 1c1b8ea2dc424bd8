using System.Text.Json;
using OpenVision.Captioning;
using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.IO;
using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Models;

/// <summary>OpenVision 2's caption-only objective (<c>main_openvision2.py</c>, <c>openvision2_model.py</c>): a vision
/// tower and an <see cref="OpenVision2Decoder"/>, no text tower and no contrastive loss. The decoder reads a random
/// <c>keep_ratio</c> subset of each image's patch tokens (<see cref="PatchSubset"/>), projected and followed by the
/// teacher-forced caption (its own embedding of <c>caption[:, :-1]</c>) under a causal mask over the whole sequence,
/// and predicts <c>caption[:, 1:]</c>; the loss is the token cross-entropy over real targets (pads masked), times
/// <c>coca_caption_loss_weight</c> (2).</summary>
/// <remarks>State dict: the vision-only encoder's keys (<c>visual.*</c>) and the decoder's under <see cref="DecoderPrefix"/>.
/// The tower's pooling head (<c>ln_post</c>, <c>proj</c>) gets no gradient: the decoder reads the raw patch tokens.
/// The vision positional table is frozen, as in <see cref="ClipsTrainingModel"/> (JAX computes a sin-cos table).</remarks>
public sealed class CaptioningTrainingModel : TrainingModel
{
    /// <summary>Prefix of the decoder's keys in a training checkpoint.</summary>
    public const string DecoderPrefix = "caption_decoder.";

    private static readonly IReadOnlySet<int> NoLayers = new HashSet<int>();

    private readonly OpenVision2Decoder caption_decoder;

    /// <summary>Wraps a vision-only <paramref name="encoder"/> (which it then owns) with a new decoder in its dtype and device.</summary>
    /// <param name="encoder">A vision-only model (<see cref="VisionOnly"/> makes one from any config).</param>
    /// <param name="decoder">Decoder architecture; its <c>vision_width</c> must be the tower's width.</param>
    /// <param name="captionWeight">Weight of the caption loss (OpenVision 2: 2).</param>
    public CaptioningTrainingModel(OpenVisionModel encoder, CaptionDecoderConfig decoder, double captionWeight = 2.0) : base(nameof(CaptioningTrainingModel))
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        if (encoder.HasTextTower) throw new ArgumentException($"model '{encoder.Config.Name}' has a text tower; the caption-only objective trains a vision-only encoder (see VisionOnly)", nameof(encoder));
        if (decoder.VisionWidth != encoder.Visual.Config.Width)
            throw new ArgumentException($"decoder vision_width {decoder.VisionWidth} is not the tower's width {encoder.Visual.Config.Width}", nameof(decoder));
        Clip = encoder;
        CaptionWeight = captionWeight;
        caption_decoder = new OpenVision2Decoder(decoder);
        caption_decoder.to(encoder.DType).to(encoder.Visual.Projection.device);
        foreach (var (name, parameter) in encoder.Visual.named_parameters())
            if (name == "positional_embedding") parameter.requires_grad = false;
        foreach (var (name, child) in encoder.named_children()) register_module(name, child);
        register_module("caption_decoder", caption_decoder);
    }

    /// <summary>The vision-only config of <paramref name="config"/>: its vision tower and preprocessing, no text tower.</summary>
    public static ModelConfig VisionOnly(ModelConfig config) => config.IsVisionOnly ? config : config with { OptionalTextCfg = null, InitLogitScale = null };

    /// <summary>The decoder trained with a tower of width <c>vision.Width</c> when the config names none: OpenVision 2's
    /// "L" decoder (768 wide, 12 blocks, 12 heads, MLP 3072; <c>text_decoder_v2.decode_variant</c>) for towers of width
    /// 768 and more; for smaller towers one as wide as the tower, with its heads and half its depth (at least 1), so
    /// that tiny demo towers are not dwarfed by their decoder.</summary>
    public static CaptionDecoderConfig DefaultDecoder(VisionConfig vision)
    {
        ArgumentNullException.ThrowIfNull(vision);
        if (vision.Width >= 768) return new CaptionDecoderConfig { Width = 768, Depth = 12, NumHeads = 12, MlpDim = 3072, VisionWidth = vision.Width };
        int heads = Math.Max(1, vision.Width / vision.HeadWidth);
        return new CaptionDecoderConfig { Width = vision.Width, Depth = Math.Max(1, vision.Layers / 2), NumHeads = heads, MlpDim = 4 * vision.Width, VisionWidth = vision.Width };
    }

    /// <summary>The vision-only encoder being trained.</summary>
    public override OpenVisionModel Clip { get; }

    /// <summary>The caption decoder.</summary>
    public OpenVision2Decoder Decoder => caption_decoder;

    /// <summary>Weight of the caption loss in the total.</summary>
    public double CaptionWeight { get; }

    /// <summary>No temperature: 0.</summary>
    public override double Temperature => 0;

    /// <summary>The caption loss of a batch (unweighted), with autograd; the caller disposes it.</summary>
    /// <param name="pixels">Normalized images [B, 3, S, S].</param>
    /// <param name="captionIds">Caption ids [B, T] (<c>[bos] … [eos] 0…</c>), int64.</param>
    /// <param name="keptTokens">Which patch tokens the decoder reads, [B, k] int64 indices in reading order (<see cref="PatchSubset.Indices"/>).</param>
    /// <param name="denominator">Divisor of the summed token cross-entropy; null: this batch's target count + 1e-8
    /// (a micro-batch or a rank's share passes the whole batch's, <see cref="ClipsTrainingModel.CaptionDenominator"/>).</param>
    public Tensor CaptionLoss(Tensor pixels, Tensor captionIds, Tensor keptTokens, double? denominator = null)
    {
        if (captionIds.ndim != 2 || captionIds.shape[0] != pixels.shape[0] || captionIds.shape[1] < 2 || captionIds.dtype != ScalarType.Int64)
            throw new ArgumentException($"caption ids must be int64 [{pixels.shape[0]}, T ≥ 2], got {captionIds.dtype} [{string.Join(", ", captionIds.shape)}]");
        using var scope = torch.NewDisposeScope();
        var device = Clip.Visual.Projection.device;
        var vision = Clip.Visual.Forward(pixels.to(Clip.DType, device), NoLayers);            // Tokens [B, N, Wv]
        var kept = PatchSubset.Gather(vision.Tokens, keptTokens);                              // [B, k, Wv]
        var ids = captionIds.to(device);
        long length = ids.shape[1];
        var input = ids.narrow(1, 0, length - 1);                                              // caption[:, :-1]
        var targets = ids.narrow(1, 1, length - 1);                                            // caption[:, 1:]
        var states = caption_decoder.HiddenStates(kept, input, CaptionMask.Causal);            // [B, T-1, W]
        // The vocabulary head only where a target counts ([PAD] never occurs inside a caption).
        var positions = targets.ne(0).flatten().nonzero().squeeze(1);                          // [M]
        var logits = caption_decoder.Head(states.reshape(-1, states.shape[2]).index_select(0, positions));   // [M, V]
        var nll = nn.functional.cross_entropy(logits, targets.flatten().index_select(0, positions), reduction: nn.Reduction.Sum);
        return (nll / (denominator ?? positions.shape[0] + 1e-8)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    /// <remarks>No contrastive term couples the samples, so accumulation is plain: each micro-batch's token sum is
    /// divided by the whole step's token count (over ranks too), and the parts sum to the whole batch's token mean.
    /// Sample i of micro-batch m on rank r is sample m·b·N + r·b + i of the step's global batch (<see cref="RankBatches"/>),
    /// which keys its token subset.</remarks>
    public override (double Contrastive, double Caption, double Total) Backward(IReadOnlyList<TrainingBatch> microBatches,
        IDistributedContext distributed, TrainStepContext context)
    {
        ArgumentNullException.ThrowIfNull(microBatches);
        ArgumentNullException.ThrowIfNull(distributed);
        ArgumentNullException.ThrowIfNull(context);
        if (microBatches.Count == 0) throw new ArgumentException("at least one micro-batch is needed", nameof(microBatches));
        long tokens = microBatches.Sum(b => Losses.CaptionLoss.TokenCount(b.CaptionIds));
        double denominator = ClipsTrainingModel.CaptionDenominator(tokens, distributed);
        double caption = 0;
        for (int m = 0; m < microBatches.Count; m++)
        {
            using var scope = torch.NewDisposeScope();
            var batch = microBatches[m];
            int local = batch.Count;
            long first = (long)m * local * distributed.WorldSize + (long)distributed.Rank * local;
            var kept = KeptTokens(context, first, batch.Pixels);
            var loss = CaptionLoss(batch.Pixels, batch.CaptionIds, kept, denominator);
            (loss * CaptionWeight).backward();
            using var value = loss.detach().to(ScalarType.Float64, CPU);
            caption += value.item<double>();
        }
        return (0, caption, CaptionWeight * caption);
    }

    /// <summary>The token subsets of a batch of <paramref name="pixels"/> whose first image is sample
    /// <paramref name="firstSample"/> of the step's global batch.</summary>
    public Tensor KeptTokens(TrainStepContext context, long firstSample, Tensor pixels)
    {
        ArgumentNullException.ThrowIfNull(context);
        int grid = (int)(pixels.shape[2] / Clip.Visual.Config.PatchSize), tokens = grid * grid;
        return PatchSubset.Indices(context.Seed, context.Step, firstSample, (int)pixels.shape[0], tokens, PatchSubset.KeptCount(tokens, context.KeepRatio));
    }

    /// <inheritdoc/>
    public override IEnumerable<Tensor> FloatingBuffers() => buffers().Where(b => b.is_floating_point());

    /// <inheritdoc/>
    public override void Train(bool training = true)
    {
        train(training);
        Clip.train(training);
    }

    /// <inheritdoc/>
    public override void Save(string path, ScalarType? dtype = null) => SafetensorsFile.Write(path, StateDictLoader.Export(this, dtype));

    /// <inheritdoc/>
    public override LoadReport Load(string path, bool requireDecoder = true)
    {
        var tensors = SafetensorsFile.Read(path);
        if (!requireDecoder && !tensors.Keys.Any(k => k.StartsWith(DecoderPrefix, StringComparison.Ordinal)))
        {
            var encoderPart = tensors.ToDictionary();
            StateDictLoader.Check(Clip, encoderPart, path).ThrowIfIncompatible();
            return StateDictLoader.Load(Clip, encoderPart, path);
        }
        StateDictLoader.Check(this, tensors, path).ThrowIfIncompatible();
        return StateDictLoader.Load(this, tensors, path);
    }

    /// <summary>Writes the released OpenVision 2 layout: the vision-only encoder (<see cref="ModelFactory.Save"/>), and
    /// beside it <c>text_decoder_config.json</c> and <c>caption_decoder.safetensors</c> (float32), which
    /// <see cref="ImageCaptioner"/> and <c>openvision caption</c> read.</summary>
    public override void SaveModel(string folder)
    {
        ModelFactory.Save(Clip, folder);
        SafetensorsFile.Write(Path.Combine(folder, ImageCaptioner.DecoderWeightsFileName), StateDictLoader.Export(caption_decoder, ScalarType.Float32),
            new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(Path.Combine(folder, CaptionDecoderConfig.FileName), JsonSerializer.Serialize(caption_decoder.Config, ConfigJson.Options));
    }

    // Registration is explicit (constructor): reflection would also register the Clip property's backing field.
    /// <inheritdoc/>
    protected override void RegisterComponents() { }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Clip.Dispose();
    }
}
