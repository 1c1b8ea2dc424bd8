using OpenVision.Configs;
using OpenVision.Text;
using OpenVision.Training.Augmentation;
using OpenVision.Training.Data;
using OpenVision.Training.Data.Datasets;
using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Training.Demo;

/// <summary>The project's demo: Fashion-MNIST converted to WebDataset shards with generated captions, a small
/// OpenVision-architecture model trained from scratch with the CLIPS losses and a low→high resolution schedule,
/// then zero-shot evaluated on the 10,000 test images with class-name prompts.</summary>
public static class FashionMnistDemo
{
    /// <summary>Name of the demo architecture.</summary>
    public const string ModelName = "openvision-fashion-tiny";

    /// <summary>A small model with every OpenVision architectural choice (no ln_pre, class token attended but not
    /// pooled, ln_post after the average pool, eps 1e-6, exact GELU vision, tanh GELU bidirectional text pooled at the
    /// last position, [bos] … [eos] [PAD]… [CLS] tokens); a 32-token context because prompts here are short.</summary>
    public static ModelConfig ModelConfig { get; } = new()
    {
        Name = ModelName,
        EmbedDim = 64,
        VisionCfg = new VisionConfig
        {
            ImageSize = 24, PatchSize = 4, Width = 96, Layers = 4, HeadWidth = 32, NoLnPre = true,
            PoolType = VisionPoolType.Avg, FinalLnAfterPool = true, NormKwargs = new(1e-6),
        },
        TextCfg = new TextConfig
        {
            ContextLength = 32, VocabSize = 32000, Width = 64, Heads = 2, Layers = 2, PoolType = "last", NoCausalMask = true,
            HfTokenizerName = "bert-base-uncased", NormKwargs = new(1e-6), ActKwargs = new("tanh"),
        },
    };

    /// <summary>The demo's caption decoder: one narrow block and 16 queries, since Fashion-MNIST captions are short.</summary>
    public static Models.DecoderConfig DecoderConfig { get; } = new() { Width = 32, Layers = 1, Heads = 2, MlpWidth = 128, QueryTokens = 16 };

    /// <summary>Pixels per side of the first (low-resolution) stage, where most samples are seen.</summary>
    public const int LowResImageSize = 16;

    /// <summary>Default passes at 16 px: with <see cref="DefaultHighResEpochs"/> about 7 minutes of training on 2 cores.</summary>
    public const double DefaultLowResEpochs = 2.5;

    /// <summary>Default passes at 24 px.</summary>
    public const double DefaultHighResEpochs = 0.5;

    /// <summary>Two stages, 16 px then 24 px: most samples at low resolution, a short fine-tune at full resolution
    /// with a much lower learning rate (the paper's low→high schedule: stage 2's peak lr is a small fraction of stage 1's).</summary>
    /// <param name="modelConfigPath">Where <see cref="ModelConfig"/> was written (see <see cref="DemoRun"/>).</param>
    /// <param name="lowResEpochs">Passes over the 60,000 training images at 16 px.</param>
    /// <param name="highResEpochs">Passes at 24 px.</param>
    /// <param name="batchSize">Samples per step.</param>
    /// <param name="seed">Seed for initialisation, order and augmentation.</param>
    public static TrainConfig TrainConfig(string modelConfigPath, double lowResEpochs = DefaultLowResEpochs, double highResEpochs = DefaultHighResEpochs, int batchSize = 128, int seed = 0)
    {
        long low = (long)(60_000 * lowResEpochs), high = (long)(60_000 * highResEpochs);
        // Warmup is at most a quarter of a stage, so short runs (--low-res-epochs 0.05) stay valid.
        return new()
    {
        Model = modelConfigPath,
        CaptionTokens = DecoderConfig.QueryTokens,
        Decoder = DecoderConfig,
        Seed = seed,
        CheckpointEverySteps = 100,
        Stages =
        [
            new TrainStage { ImageSize = LowResImageSize, BatchSize = batchSize, Samples = low, PeakLr = 3e-3, WarmupSamples = Math.Min(4_000, low / 4) },
            new TrainStage { ImageSize = 24, BatchSize = batchSize, Samples = high, PeakLr = 3e-4, WarmupSamples = Math.Min(2_000, high / 4) },
        ],
    };
    }

    /// <summary>Converts the training split to shards under <paramref name="folder"/> (reused when already there).</summary>
    public static FashionMnistConversion PrepareShards(FashionMnistSplit train, string folder, int seed, IProgress<Pipelines.ProgressReport>? progress = null) =>
        FashionMnistConverter.Convert(train, folder, new FashionMnistConversionOptions { Seed = seed }, progress);

    /// <summary>The data stream for the shards: shuffled, lightly augmented, seeded.</summary>
    public static ITrainingData Data(string shardPattern, int seed, int captionTokens, bool augment = true)
    {
        var source = new WebDatasetSource(shardPattern, new DataOrderOptions { Seed = seed, ShuffleBufferSize = 5000 });
        // Milder than OpenVision's (crop area 40–100 %, jitter p 0.8): 28-pixel images and a two-epoch budget.
        var augmentation = augment ? AugmentationOptions.OpenVision with { AreaMin = 0.8, JitterProbability = 0.3 } : AugmentationOptions.None;
        var tokenizer = OpenVisionTokenizer.CreateDefault(ModelConfig.TextCfg.ContextLength);
        return new BatcherTrainingData(source, new TrainingBatcherOptions { Seed = seed, Augmentation = augmentation }, new TrainingTexts(tokenizer, captionTokens));
    }
}
