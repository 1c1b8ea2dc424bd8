using System.Text.Json;
using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Training.Models;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>The files a reference implementation needs to run the same training step: the model config in the hub
/// form (<see cref="ConfigFile"/>), the initial weights with the decoder under <c>text_decoder.</c>
/// (<see cref="WeightsFile"/>), the batch (<see cref="BatchFile"/>, see <see cref="TrainStepBatch"/>), and the
/// settings with this run's results (<see cref="SettingsFile"/>: decoder, loss weights, optimizer, sizes, threads,
/// first-step losses). <c>benchmarks/pytorch/train_step.py</c> reads the folder.</summary>
public static class TrainStepExport
{
    /// <summary>open_clip config of the CLIP.</summary>
    public const string ConfigFile = ModelFiles.Config;

    /// <summary>Initial weights (float32), open_clip keys plus <c>text_decoder.*</c>.</summary>
    public const string WeightsFile = "weights.safetensors";

    /// <summary>The batch.</summary>
    public const string BatchFile = "batch.safetensors";

    /// <summary>Settings and the TorchSharp run's figures.</summary>
    public const string SettingsFile = "train_step.json";

    /// <summary>Identifies the settings layout.</summary>
    public const string Format = "openvision-train-step/1";

    internal static readonly JsonSerializerOptions JsonOptions = new(ConfigJson.Options) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };

    /// <summary>Writes the config, the weights as they are now (call before the first step) and the batch.</summary>
    public static void WriteInputs(string folder, TrainStepOptions options, ClipsTrainingModel model, TrainingBatch batch)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, ConfigFile), ConfigJson.ToHubJson(options.Model));
        SafetensorsFile.Write(Path.Combine(folder, WeightsFile), model.ExportStateDict());
        SafetensorsFile.Write(Path.Combine(folder, BatchFile), TrainStepBatch.Export(batch));
    }

    /// <summary>Writes the settings and <paramref name="result"/> (after the run).</summary>
    public static void WriteSettings(string folder, TrainStepOptions options, TrainStepResult result)
    {
        var settings = new
        {
            Format,
            Model = options.Model.Name,
            Config = ConfigFile,
            Weights = WeightsFile,
            Batch = BatchFile,
            options.Decoder,
            options.LossWeights,
            Optimizer = new { options.LearningRate, options.Optimizer.Beta1, options.Optimizer.Beta2, options.Optimizer.Eps, options.Optimizer.WeightDecay },
            options.BatchSize,
            options.ImageSize,
            options.CaptionTokens,
            options.Steps,
            options.WarmupSteps,
            result.Threads,
            Torchsharp = result,
        };
        File.WriteAllText(Path.Combine(folder, SettingsFile), JsonSerializer.Serialize(settings, JsonOptions));
    }
}
