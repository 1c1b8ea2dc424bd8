using OpenVision.Configs;
using OpenVision.Lab.Demo;
using OpenVision.Text;
using OpenVision.Training;
using OpenVision.Training.Losses;
using OpenVision.Training.Models;
using OpenVision.Training.Optimization;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>What <see cref="TrainStepBenchmark"/> times: one model, one batch shape, a number of steps.</summary>
public sealed record TrainStepOptions
{
    /// <summary>The CLIP architecture (vision and text towers).</summary>
    public required ModelConfig Model { get; init; }

    /// <summary>The caption decoder; its <see cref="DecoderConfig.QueryTokens"/> is the caption length.</summary>
    public required DecoderConfig Decoder { get; init; }

    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Pixels per side of the batch (any size the vision tower accepts, as in progressive resolution).</summary>
    public required int ImageSize { get; init; }

    /// <summary>Timed steps; the reported figures are medians over these.</summary>
    public int Steps { get; init; } = 10;

    /// <summary>Untimed steps first (allocator and kernel warm-up); the first-step loss comes from the first of these.</summary>
    public int WarmupSteps { get; init; } = 2;

    /// <summary>Constant learning rate of every step (small, so that repeating one batch stays well behaved).</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>AdamW settings (OpenVision's by default).</summary>
    public AdamWConfig Optimizer { get; init; } = new();

    /// <summary>Loss weights (OpenVision's 1 and 2 by default).</summary>
    public LossWeights LossWeights { get; init; } = LossWeights.OpenVision;

    /// <summary>Seed of the initial weights and of the synthetic batch.</summary>
    public int Seed { get; init; }

    /// <summary>Torch intra-op threads; 0 keeps the current setting.</summary>
    public int Threads { get; init; }

    /// <summary>Caption length = decoder queries.</summary>
    public int CaptionTokens => Decoder.QueryTokens;

    /// <summary>The defaults for a model reference: the Fashion-MNIST demo's architecture and decoder at its 16-px
    /// stage and batch 128 for <see cref="FashionMnistDemo.ModelName"/>, otherwise the config's own resolution,
    /// OpenVision's decoder for its size and batch 32.</summary>
    /// <param name="model">The demo's name, a built-in name, a config JSON, a model folder or an hf-hub: id.</param>
    public static TrainStepOptions For(string model)
    {
        if (model == FashionMnistDemo.ModelName)
            return new() { Model = FashionMnistDemo.ModelConfig, Decoder = FashionMnistDemo.DecoderConfig, ImageSize = FashionMnistDemo.LowResImageSize, BatchSize = 128 };
        var config = ModelFactory.Resolve(model, configOnly: true).Config;
        return new() { Model = config, Decoder = DecoderConfig.For(config), ImageSize = config.VisionCfg.ImageSize, BatchSize = 32 };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that cannot run.</summary>
    public TrainStepOptions Validate()
    {
        Model.Validate();
        Decoder.Validate();
        if (BatchSize < 2) throw new ArgumentException($"batch size must be at least 2 (the contrastive loss needs negatives), got {BatchSize}");
        if (ImageSize < Model.VisionCfg.PatchSize) throw new ArgumentException($"image size {ImageSize} is smaller than the patch size {Model.VisionCfg.PatchSize}");
        if (Steps < 1) throw new ArgumentException($"steps must be at least 1, got {Steps}");
        if (WarmupSteps < 0) throw new ArgumentException($"warm-up steps must be non-negative, got {WarmupSteps}");
        if (CaptionTokens < 2) throw new ArgumentException($"caption tokens must be at least 2 ([bos] and [eos]), got {CaptionTokens}");
        if (!(LearningRate >= 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"learning rate must be finite and non-negative, got {LearningRate}");
        if (Threads < 0) throw new ArgumentException($"threads must be non-negative, got {Threads}");
        // The synthetic batch is tokenized with OpenVision's vocabulary, whose ids reach the BERT vocabulary's size.
        int needed = OpenVisionTokenizer.CreateDefault(Model.TextCfg.ContextLength).VocabularySize;
        if (Model.TextCfg.VocabSize < needed || Decoder.VocabSize < needed)
            throw new ArgumentException($"the synthetic batch uses the OpenVision tokenizer's {needed} ids, but the text vocabulary has {Model.TextCfg.VocabSize} rows and the decoder {Decoder.VocabSize}");
        return this;
    }
}
