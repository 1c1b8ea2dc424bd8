using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Models;

namespace OpenVision.Training;

/// <summary>Runs OpenVision's CLIPS recipe (<see cref="TrainConfig.ClipsObjective"/>) with <see cref="TrainingLoop"/>:
/// stages of increasing resolution, each with a fresh AdamW and a warmup + cosine schedule, CLIPS losses, exact
/// gradient accumulation (<see cref="ExactAccumulation"/>), JSONL metrics and resumable checkpoints; data-parallel with
/// a <see cref="IDistributedContext"/> of N ranks. A run whose output folder already holds a checkpoint continues
/// from it. For either objective use <see cref="TrainingLoop"/> directly.</summary>
/// <param name="config">The run; its objective must be CLIPS.</param>
/// <param name="data">The batch stream.</param>
/// <param name="outputFolder">Metrics, checkpoints and the final model go here.</param>
/// <param name="modelFactory">Builds the initial model; null uses <see cref="CreateModel"/> on the config.</param>
/// <param name="distributed">The ranks of a data-parallel run (<see cref="DistributedContext.FromEnvironment"/>); null: one process.</param>
public sealed class Trainer(TrainConfig config, ITrainingData data, string outputFolder, Func<ClipsTrainingModel>? modelFactory = null,
    IDistributedContext? distributed = null)
{
    private readonly TrainingLoop loop = new(config, data, outputFolder,
        () => config.IsCaptioning ? throw new ArgumentException($"objective '{config.Objective}': Trainer runs the CLIPS objective; use TrainingLoop")
            : modelFactory?.Invoke() ?? CreateModel(config), distributed);

    /// <summary>The metrics file (one <see cref="StepMetrics"/> JSON object per line).</summary>
    public string MetricsPath => loop.MetricsPath;

    /// <summary>Builds the model a config describes: its architecture, optionally its weights, and the family's decoder.</summary>
    public static ClipsTrainingModel CreateModel(TrainConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        OpenVisionModel clip;
        if (config.InitFromWeights) clip = ModelFactory.Load(config.Model).Model;
        else clip = ModelFactory.Create(ModelFactory.Resolve(config.Model, configOnly: true).Config);
        var decoder = config.Decoder ?? DecoderConfig.For(clip.Config) with { QueryTokens = config.CaptionTokens };
        if (config.DecoderLayers is { } layers) decoder = decoder with { Layers = layers };
        return new ClipsTrainingModel(clip, decoder, config.LossWeights);
    }

    /// <summary>Trains until every stage is done (or <paramref name="cancellationToken"/> fires, after a checkpoint).</summary>
    /// <param name="progress">Receives every step's metrics.</param>
    /// <param name="onStageEnd">Called after each stage with the model, e.g. to evaluate it.</param>
    /// <param name="cancellationToken">Stops the run at the next step boundary.</param>
    public ClipsTrainingModel Run(IProgress<TrainingProgress>? progress = null, Action<int, ClipsTrainingModel>? onStageEnd = null,
        CancellationToken cancellationToken = default) =>
        (ClipsTrainingModel)loop.Run(progress, onStageEnd is null ? null : (stage, model) => onStageEnd(stage, (ClipsTrainingModel)model), cancellationToken);
}
