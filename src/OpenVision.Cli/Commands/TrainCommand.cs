using System.CommandLine;
using OpenVision.Lab.Plotting;
using OpenVision.Text;
using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;
using OpenVision.Training.Distributed;
using OpenVision.Training.Models;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision train --config RUN.json --data SHARDS|MANIFEST|FOLDER --output DIR</c>; the same command runs
/// data-parallel under <c>mpirun -np N</c> or <c>srun</c>. A run whose output holds a checkpoint resumes from it.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Training config JSON (stages, optimizer, model)", Required = true };
        var data = new Option<string>("--data", "-d") { Description = "WebDataset shards (brace patterns allowed), a .tsv/.csv manifest, or a folder with sidecar texts", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Checkpoints, metrics and the final model", Required = true };
        var noAugment = new Option<bool>("--no-augment") { Description = "Turn off crop/colour augmentation" };
        var command = new Command("train", "Train or fine-tune with OpenVision's recipe (CLIPS losses, or OpenVision 2's caption-only objective; progressive resolution)") { config, data, output, noAugment };
        command.SetAction(r => CliErrors.Run(() => Run(r.GetValue(config)!, r.GetValue(data)!, r.GetValue(output)!, !r.GetValue(noAugment))));
        return command;
    }

    private static int Run(string configPath, string dataSpec, string output, bool augment)
    {
        var config = TrainConfig.Load(configPath);
        var ranks = DistributedContext.FromEnvironment();
        try
        {
            var order = new DataOrderOptions { Seed = config.Seed, Rank = 0, WorldSize = 1 };
            IImageTextSource source = Directory.Exists(dataSpec) ? new FolderSource(dataSpec, order)
                : dataSpec.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || dataSpec.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? new ManifestSource(dataSpec, order)
                : new WebDatasetSource(dataSpec, order);
            var modelConfig = ModelFactory.Resolve(config.Model, configOnly: true).Config;
            // The caption-only objective has no text tower: the alt-text ids it never reads use the default context length.
            int contextLength = modelConfig.OptionalTextCfg?.ContextLength ?? OpenVisionTokenizer.DefaultContextLength;
            var texts = new TrainingTexts(OpenVisionTokenizer.CreateDefault(contextLength), config.Decoder?.QueryTokens ?? config.CaptionTokens);
            var options = new TrainingBatcherOptions { Seed = config.Seed, Augmentation = augment ? Training.Augmentation.AugmentationOptions.OpenVision : Training.Augmentation.AugmentationOptions.None };
            var trainingData = new BatcherTrainingData(source, options, texts);
            bool chief = ranks.Rank == 0;
            var line = new TrainingLine(captionOnly: config.Objective == TrainConfig.CaptioningObjective);
            using var signals = new CliSignals();
            TrainingModel trained;
            try
            {
                trained = new TrainingLoop(config, trainingData, output, distributed: ranks).Run(chief ? line : null, cancellationToken: signals.Token);
            }
            catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
            {
                // The trainer saved a checkpoint at the step boundary where it stopped.
                if (chief) line.Finish();
                ranks.Dispose();
                string? saved = new TrainingCheckpoints(output).Latest;
                if (!chief) return CliErrors.Interrupted;
                return CliErrors.Fail(saved is null
                    ? $"interrupted before the first step finished; nothing was saved in {output}"
                    : $"interrupted: resumable checkpoint saved in {saved}; run the same command again to resume", CliErrors.Interrupted);
            }
            using var model = trained;
            if (chief)
            {
                line.Finish();
                model.SaveModel(Path.Combine(output, "model"));
                if (trainingData.SkippedSamples > 0) Console.WriteLine($"skipped {trainingData.SkippedSamples} samples: {source.Skips.Summary()}");
                if (trainingData.SamplesWithoutCaption > 0) Console.WriteLine($"{trainingData.SamplesWithoutCaption} samples had no synthetic caption (both texts from the alt-text)");
                var plots = TrainingPlots.Write(Path.Combine(output, "metrics.jsonl"));
                Console.WriteLine($"model saved to {Path.Combine(output, "model")}; metrics in {Path.Combine(output, "metrics.jsonl")}; plots: {string.Join(", ", plots)}");
            }
            ranks.Dispose();
            return 0;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (ranks.WorldSize > 1) ranks.Abort(1);
            throw;
        }
    }
}
