using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Lab.Demo;
using OpenVision.Models;
using OpenVision.Text;
using OpenVision.Training;
using OpenVision.Training.Models;
using TorchSharp;

namespace OpenVision.Lab.Tests.Benchmarks;

public sealed class TrainStepBenchmarkTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("ov-train-step-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // The demo's architecture at a small batch: the real configuration the bench defaults to.
    private static TrainStepOptions Small() => TrainStepOptions.For(FashionMnistDemo.ModelName) with { BatchSize = 6, Steps = 2, WarmupSteps = 1, Seed = 3 };

    // What the PyTorch reference does with the folder, done in C#: rebuild the model from the exported config and
    // settings, load the weights strictly, run the batch. Weights saved after a step, a different batch or settings
    // that do not describe the run all change the loss.
    [Fact]
    public void ExportedFolderReproducesTheFirstStepLoss()
    {
        var result = TrainStepBenchmark.Run(Small(), folder);

        Assert.Equal(3, result.TotalLosses.Count);
        Assert.Equal(result.FirstStepLosses.Total, result.TotalLosses[0]);
        Assert.True(result.TotalLosses[2] < result.TotalLosses[0], $"AdamW on one batch should lower its loss: {string.Join(", ", result.TotalLosses)}");
        Assert.True(result.StepMs > 0 && result.ForwardMs > 0 && result.BackwardMs > 0 && result.OptimizerMs > 0);
        Assert.Equal(6 * 1000 / result.StepMs, result.SamplesPerSecond, 6);
        Assert.Equal(torch.get_num_threads(), result.Threads);

        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, TrainStepExport.SettingsFile)));
        var root = settings.RootElement;
        Assert.Equal(TrainStepExport.Format, root.GetProperty("format").GetString());
        Assert.Equal(result.FirstStepLosses.Total, root.GetProperty("torchsharp").GetProperty("first_step_losses").GetProperty("total").GetDouble());
        var decoder = root.GetProperty("decoder").Deserialize<DecoderConfig>(ConfigJson.Options)!;
        var config = ConfigJson.Load(Path.Combine(folder, root.GetProperty("config").GetString()!));

        using var model = new ClipsTrainingModel(new OpenVisionModel(config), decoder);
        model.Load(Path.Combine(folder, root.GetProperty("weights").GetString()!));
        model.Train();
        using var batch = TrainStepBatch.Read(Path.Combine(folder, root.GetProperty("batch").GetString()!));
        Assert.Equal(root.GetProperty("image_size").GetInt32(), (int)batch.Pixels.shape[2]);
        using var losses = model.Forward(batch.Pixels, batch.AltTextIds, batch.SubCaptionIds, batch.CaptionIds);
        var (contrastive, caption, total) = losses.ToDoubles();
        Assert.Equal(result.FirstStepLosses.Total, total, 1e-6 * total);
        Assert.Equal(result.FirstStepLosses.Contrastive, contrastive, 1e-6 * contrastive);
        Assert.Equal(result.FirstStepLosses.Caption, caption, 1e-6 * caption);
    }

    [Fact]
    public void BatchHasOpenVisionTokenLayoutsAndDependsOnlyOnTheSeed()
    {
        using var batch = TrainStepBatch.Create(batchSize: 5, imageSize: 16, contextLength: 32, captionTokens: 16, seed: 1);
        using var same = TrainStepBatch.Create(5, 16, 32, 16, seed: 1);
        using var other = TrainStepBatch.Create(5, 16, 32, 16, seed: 2);
        Assert.Equal([5L, 3, 16, 16], batch.Pixels.shape);
        var alt = batch.AltTextIds.data<long>().ToArray();
        var captions = batch.CaptionIds.data<long>().ToArray();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(OpenVisionTokenizer.BosId, alt[i * 32]);
            Assert.Equal(OpenVisionTokenizer.ClassId, alt[i * 32 + 31]);
            var row = captions.AsSpan(i * 16, 16).ToArray();
            Assert.Equal(OpenVisionTokenizer.BosId, row[0]);
            int eos = Array.IndexOf(row, (long)OpenVisionTokenizer.EosId);
            Assert.True(eos > 1, $"caption {i} has no words before [eos]: {string.Join(" ", row)}");
            Assert.All(row[(eos + 1)..], id => Assert.Equal(0, id));
        }
        Assert.Equal(batch.Pixels.data<float>().ToArray(), same.Pixels.data<float>().ToArray());
        Assert.Equal(captions, same.CaptionIds.data<long>().ToArray());
        Assert.NotEqual(batch.Pixels.data<float>().ToArray(), other.Pixels.data<float>().ToArray());
        Assert.NotEqual(batch.SubCaptionIds.data<long>().ToArray(), other.SubCaptionIds.data<long>().ToArray());
    }

    [Fact]
    public void DefaultsAreTheDemoAtItsFirstStageAndOpenVisionDecodersElsewhere()
    {
        var demo = TrainStepOptions.For(FashionMnistDemo.ModelName);
        Assert.Equal((128, 16, 16), (demo.BatchSize, demo.ImageSize, demo.CaptionTokens));
        Assert.Equal(FashionMnistDemo.DecoderConfig, demo.Decoder);
        Assert.Equal(FashionMnistDemo.ModelConfig, demo.Model);

        var tiny = TrainStepOptions.For("openvision-vit-tiny-patch16-160");
        Assert.Equal((32, 160, 128), (tiny.BatchSize, tiny.ImageSize, tiny.CaptionTokens));
        Assert.Equal(DecoderConfig.For(EncoderSize.Tiny), tiny.Decoder);
    }

    [Theory]
    [InlineData("batch", "batch size")]
    [InlineData("image", "patch size")]
    [InlineData("vocabulary", "decoder 40")]
    [InlineData("steps", "steps must be")]
    public void UnusableSettingsAreClearErrors(string setting, string expected)
    {
        var options = Small();
        options = setting switch
        {
            "batch" => options with { BatchSize = 1 },
            "image" => options with { ImageSize = 3 },
            "vocabulary" => options with { Decoder = options.Decoder with { VocabSize = 40 } },
            _ => options with { Steps = 0 },
        };
        var e = Assert.Throws<ArgumentException>(() => TrainStepBenchmark.Run(options, folder));
        Assert.Contains(expected, e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
    }
}
