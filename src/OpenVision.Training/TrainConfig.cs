using System.Text.Json;
using System.Text.Json.Serialization;
using OpenVision.Training.Losses;
using OpenVision.Training.Optimization;

namespace OpenVision.Training;

/// <summary>One stage of progressive-resolution training: every stage starts from the previous stage's weights
/// with a fresh optimizer and its own warmup + cosine schedule (OpenVision's train.sh runs one invocation per stage).</summary>
public sealed record TrainStage
{
    /// <summary>Input resolution in pixels for this stage.</summary>
    public int ImageSize { get; init; }

    /// <summary>Training samples seen in this stage (steps = samples / batch size).</summary>
    public long Samples { get; init; }

    /// <summary>Global batch size (samples per optimizer step).</summary>
    public int BatchSize { get; init; }

    /// <summary>Peak learning rate of the warmup + cosine schedule.</summary>
    public double PeakLr { get; init; }

    /// <summary>Samples of linear warmup.</summary>
    public long WarmupSamples { get; init; }

    /// <summary>Optimizer steps in this stage.</summary>
    [JsonIgnore] public int Steps => (int)(Samples / BatchSize);

    /// <summary>Fraction of patch tokens the caption-only objective's decoder reads in this stage (null: the run's
    /// <see cref="TrainConfig.KeepRatio"/>).</summary>
    public double? KeepRatio { get; init; }

    /// <summary>Warmup steps in this stage.</summary>
    [JsonIgnore] public int WarmupSteps => (int)(WarmupSamples / BatchSize);
}

/// <summary>A training run: the model, the stages, the optimizer and loss settings. Read from JSON (snake_case keys;
/// unknown keys are errors); the CLI can override a few fields.</summary>
public sealed record TrainConfig
{
    /// <summary>Model config: a built-in name, a config JSON file or a hub-style folder (its weights are the starting point).</summary>
    public string Model { get; init; } = "openvision-vit-tiny-patch16-160";

    /// <summary>The objective names <see cref="Objectives"/> accepts.</summary>
    public static IReadOnlyList<string> Objectives { get; } = [ClipsObjective, CaptioningObjective];

    /// <summary>OpenVision's CLIPS objective: contrastive and caption losses, text tower and CLIPS decoder.</summary>
    public const string ClipsObjective = "clips";

    /// <summary>OpenVision 2's caption-only objective: vision tower and caption decoder reading a random patch subset.</summary>
    public const string CaptioningObjective = "captioning";

    /// <summary>What is trained: <see cref="ClipsObjective"/> (the default) or <see cref="CaptioningObjective"/>.</summary>
    public string Objective { get; init; } = ClipsObjective;

    /// <summary>Caption-only objective: fraction of each image's patch tokens the decoder reads (OpenVision 2: 0.35);
    /// a stage's own <see cref="TrainStage.KeepRatio"/> wins.</summary>
    public double KeepRatio { get; init; } = 0.35;

    /// <summary>Caption-only objective: the OpenVision 2 decoder's architecture (width, depth, num_heads, mlp_dim,
    /// vocab_size, bos_id, eos_id; vision_width is the tower's). Null: <see cref="Models.CaptioningTrainingModel.DefaultDecoder"/>.</summary>
    public Captioning.CaptionDecoderConfig? CaptionDecoder { get; init; }

    /// <summary>True for the caption-only objective.</summary>
    [JsonIgnore] public bool IsCaptioning => Objective == CaptioningObjective;

    /// <summary>The keep ratio of stage <paramref name="stage"/>.</summary>
    public double KeepRatioOf(int stage) => Stages[stage].KeepRatio ?? KeepRatio;

    /// <summary>Start from the weights of the model reference (true) or from a random initialisation (false).</summary>
    public bool InitFromWeights { get; init; }

    /// <summary>Caption decoder query tokens (= caption length the decoder predicts; OpenVision: 128).</summary>
    public int CaptionTokens { get; init; } = 128;

    /// <summary>Decoder depth override (null: the family's table).</summary>
    public int? DecoderLayers { get; init; }

    /// <summary>The whole decoder architecture, for models outside the released families (null: the family's table
    /// with <see cref="CaptionTokens"/> and <see cref="DecoderLayers"/>).</summary>
    public Models.DecoderConfig? Decoder { get; init; }

    /// <summary>Progressive-resolution stages, low to high resolution.</summary>
    public List<TrainStage> Stages { get; init; } = [];

    /// <summary>AdamW settings (OpenVision: β = (0.9, 0.95), ε = 1e-8, weight decay 0.2 on kernels).</summary>
    public AdamWConfig Optimizer { get; init; } = new();

    /// <summary>Contrastive and caption loss weights (OpenVision: 1 and 2).</summary>
    public LossWeights LossWeights { get; init; } = new();

    /// <summary>Micro-batches per optimizer step (gradient accumulation); the batch size must divide evenly. Exact: the
    /// step's losses and gradients are those of the whole batch (the contrastive loss sees every sample of it as a
    /// negative), at the cost of a second forward pass of both towers per micro-batch (<see cref="ExactAccumulation"/>).</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Seed for initialisation, data order and augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>Write a resumable checkpoint every this many optimizer steps (and at the end of each stage).</summary>
    public int CheckpointEverySteps { get; init; } = 200;

    /// <summary>Threads for the tensor engine (0: its default).</summary>
    public int Threads { get; init; }

    /// <summary>Unknown keys, refused by <see cref="Validate"/>.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Unrecognized { get; init; }

    // The largest input the CLI accepts anywhere (--image-size), and a learning rate far above any that trains.
    private const int MaxImageSize = 4096;
    private const double MaxPeakLr = 1000;

    /// <summary>Throws <see cref="ArgumentException"/> naming every problem.</summary>
    public TrainConfig Validate()
    {
        var problems = new List<string>();
        if (Unrecognized is { Count: > 0 }) problems.AddRange(Unrecognized.Keys.Select(k => $"unknown key '{k}'"));
        if (Stages.Count == 0) problems.Add("at least one stage is needed");
        foreach (var (i, s) in Stages.Index())
        {
            if (s.ImageSize <= 0 || s.BatchSize <= 0 || s.Samples < s.BatchSize) problems.Add($"stage {i}: image_size and batch_size must be positive and samples at least one batch");
            if (s.ImageSize > MaxImageSize) problems.Add($"stage {i}: image_size {s.ImageSize} is above {MaxImageSize}");
            if (!(s.PeakLr > 0 && s.PeakLr <= MaxPeakLr)) problems.Add($"stage {i}: peak_lr must be in (0, {MaxPeakLr}], not {s.PeakLr}");
            if (s.BatchSize <= 0) continue;   // the checks below divide by it
            if (s.Samples / s.BatchSize > int.MaxValue) problems.Add($"stage {i}: {s.Samples} samples are more than {int.MaxValue} steps of {s.BatchSize}");
            if (s.WarmupSamples < 0 || s.WarmupSamples / s.BatchSize >= s.Samples / s.BatchSize && s.WarmupSamples > 0) problems.Add($"stage {i}: warmup must be shorter than the stage");
            if (GradientAccumulation < 1 || s.BatchSize % GradientAccumulation != 0) problems.Add($"stage {i}: batch_size {s.BatchSize} is not divisible by gradient_accumulation {GradientAccumulation}");
        }
        if (!Objectives.Contains(Objective)) problems.Add($"objective '{Objective}' is not one of: {string.Join(", ", Objectives)}");
        if (!(KeepRatio > 0 && KeepRatio <= 1)) problems.Add($"keep_ratio {KeepRatio} must be in (0, 1]");
        foreach (var (i, s) in Stages.Index())
            if (s.KeepRatio is { } r && !(r > 0 && r <= 1)) problems.Add($"stage {i}: keep_ratio {r} must be in (0, 1]");
        if (IsCaptioning && (Decoder is not null || DecoderLayers is not null)) problems.Add("decoder and decoder_layers describe the CLIPS decoder; the captioning objective takes caption_decoder");
        if (!IsCaptioning && CaptionDecoder is not null) problems.Add("caption_decoder is for objective 'captioning'");
        if (CaptionDecoder is { } d) problems.AddRange(d.Problems().Select(p => $"caption_decoder: {p}"));
        if (CaptionTokens < 2) problems.Add("caption_tokens must be at least 2");
        if (CheckpointEverySteps < 1) problems.Add("checkpoint_every_steps must be positive");
        return problems.Count == 0 ? this : throw new ArgumentException("train config: " + string.Join("; ", problems));
    }

    /// <summary>JSON settings: snake_case, comments allowed.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        AllowDuplicateProperties = false,
        // A misspelt key inside a stage, the optimizer or the loss weights would otherwise be dropped without a word
        // (the top level collects its unknown keys to name them all at once).
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads and validates a config file.</summary>
    public static TrainConfig Load(string path)
    {
        try { return (JsonSerializer.Deserialize<TrainConfig>(IO.InputFile.ReadAllText(path, 16L << 20), JsonOptions) ?? throw new ArgumentException("empty config")).Validate(); }
        catch (JsonException e) { throw new ArgumentException($"{path}: {e.Message}"); }
        catch (ArgumentException e) { throw new ArgumentException($"{path}: {e.Message}"); }
    }
}
