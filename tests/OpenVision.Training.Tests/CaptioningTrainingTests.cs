using System.Text.Json;
using OpenVision.Captioning;
using OpenVision.Configs;
using OpenVision.Training.Data;
using OpenVision.Training.Models;
using OpenVision.Training.Tests.Models;
using TorchSharp;

namespace OpenVision.Training.Tests;

// The caption-only objective end to end: the config, a short run whose loss falls, the released layout it saves
// (loaded by ImageCaptioner and OpenVisionEncoder, what `openvision caption` and `embed` use) and resuming.
public sealed class CaptioningTrainingTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("ov-captioning-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    private static TrainConfig Config(int checkpointEvery = 100, double lr = 1e-2) => new()
    {
        Objective = TrainConfig.CaptioningObjective,
        CaptionTokens = TinyModels.QueryTokens,
        Seed = 4,
        CheckpointEverySteps = checkpointEvery,
        Stages =
        [
            new TrainStage { ImageSize = 8, Samples = 64, BatchSize = 8, PeakLr = lr, WarmupSamples = 8, KeepRatio = 1.0 },
            new TrainStage { ImageSize = 16, Samples = 64, BatchSize = 8, PeakLr = lr, WarmupSamples = 0 },
        ],
    };

    [Theory]
    [InlineData("{\"objective\": \"contrastive\", \"stages\": [{\"image_size\": 8, \"samples\": 8, \"batch_size\": 8, \"peak_lr\": 1}]}", "objective 'contrastive' is not one of: clips, captioning")]
    [InlineData("{\"objective\": \"captioning\", \"keep_ratio\": 0, \"stages\": [{\"image_size\": 8, \"samples\": 8, \"batch_size\": 8, \"peak_lr\": 1}]}", "keep_ratio 0 must be in (0, 1]")]
    [InlineData("{\"objective\": \"captioning\", \"stages\": [{\"image_size\": 8, \"samples\": 8, \"batch_size\": 8, \"peak_lr\": 1, \"keep_ratio\": 1.5}]}", "stage 0: keep_ratio 1.5 must be in (0, 1]")]
    [InlineData("{\"caption_decoder\": {\"width\": 12}, \"stages\": [{\"image_size\": 8, \"samples\": 8, \"batch_size\": 8, \"peak_lr\": 1}]}", "caption_decoder is for objective 'captioning'")]
    public void BadObjectiveSettingsAreRefusedInOneLine(string json, string problem)
    {
        string path = Path.Combine(output, "bad.json");
        File.WriteAllText(path, json);
        var error = Assert.Throws<ArgumentException>(() => TrainConfig.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void DefaultObjectiveIsClipsAndTheKeepRatioIsPerStage()
    {
        string path = Path.Combine(output, "ok.json");
        File.WriteAllText(path, "{\"objective\": \"captioning\", \"stages\": [{\"image_size\": 8, \"samples\": 8, \"batch_size\": 8, \"peak_lr\": 1, \"keep_ratio\": 0.25}, {\"image_size\": 8, \"samples\": 8, \"batch_size\": 8, \"peak_lr\": 1}]}");
        var config = TrainConfig.Load(path);
        Assert.True(config.IsCaptioning);
        Assert.Equal(0.25, config.KeepRatioOf(0));
        Assert.Equal(0.35, config.KeepRatioOf(1));   // OpenVision 2's default
        Assert.Equal(TrainConfig.ClipsObjective, new TrainConfig().Objective);
    }

    [Fact]
    public void ShortRunLowersTheLossAndSavesWhatCaptionAndEmbedLoad()
    {
        var loop = new TrainingLoop(Config(), new SyntheticData(), output, () => TinyCaptioning.Model(1));
        using var model = (CaptioningTrainingModel)loop.Run();
        var losses = File.ReadAllLines(loop.MetricsPath).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("caption").GetDouble()).ToList();
        Assert.Equal(16, losses.Count);
        // From about ln 40 = 3.7 (uniform over the vocabulary) to the captions' structure ([bos] ... [eos] over 37 words):
        // the mean of the last three steps must be clearly below that of the first three.
        Assert.True(losses.TakeLast(3).Average() < losses.Take(3).Average() - 0.3, $"the loss did not fall: {string.Join(", ", losses.Select(l => l.ToString("F3")))}");

        string folder = Path.Combine(output, "model");
        model.SaveModel(folder);
        Assert.True(ModelFactory.Resolve(folder, configOnly: true).Config.IsVisionOnly);
        string image = Path.Combine(output, "image.png");
        var pixels = new byte[16 * 16 * 3];
        new Random(3).NextBytes(pixels);
        File.WriteAllBytes(image, PngEncoder.Encode(pixels, 16, 16, 3));

        using var captioner = ImageCaptioner.Load(folder);
        var decoderWeights = captioner.Decoder.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().data<float>().ToArray());
        foreach (var (name, parameter) in model.Decoder.named_parameters())
            Assert.Equal(parameter.detach().data<float>().ToArray(), decoderWeights[name]);
        var caption = captioner.CaptionFiles([image], new CaptionOptions { MaxTokens = 8 })[0];
        Assert.InRange(caption.TokenIds.Count, 0, 8);
        Assert.True(double.IsFinite(caption.LogProbability));

        using var encoder = OpenVisionEncoder.Load(folder);
        using var features = encoder.EncodeImageFiles([image]);
        Assert.Equal([1L, TinyModels.Config().EmbedDim], features.shape);
        // The trained tower, not a fresh one: its patch tokens are the model's.
        using var scope = torch.NewDisposeScope();
        var input = encoder.Preprocess([OpenVision.Vision.ImageDecoder.Decode(image)]);
        model.Train(false);
        using var noGrad = torch.no_grad();
        var expected = model.Clip.Visual.Forward(input, new HashSet<int>()).Tokens;
        using var encoding = encoder.EncodeImageDetailed(input);
        Assert.True(torch.allclose(expected, encoding.Tokens, rtol: 1e-5, atol: 1e-6), "the saved tower differs from the trained one");
    }

    // A run killed between checkpoints resumes from the last one and ends with the parameters of an uninterrupted run
    // (the token subsets are keyed by the step, so the resumed steps draw what the uninterrupted ones drew).
    [Fact]
    public void ResumeAfterKillMatchesUninterruptedRun()
    {
        string uninterrupted = Path.Combine(output, "a"), interrupted = Path.Combine(output, "b");
        Dictionary<string, float[]> expected;
        using (var model = new TrainingLoop(Config(checkpointEvery: 4), new SyntheticData(), uninterrupted, () => TinyCaptioning.Model(1)).Run())
            expected = Parameters(model);
        var kill = new Progress(p => { if (p.Last.Step == 11) throw new OperationCanceledException("killed"); });
        Assert.Throws<OperationCanceledException>(() => new TrainingLoop(Config(checkpointEvery: 4), new SyntheticData(), interrupted, () => TinyCaptioning.Model(1)).Run(kill));
        Assert.EndsWith("step-0000008", new TrainingCheckpoints(interrupted).Latest);
        using (var resumed = new TrainingLoop(Config(checkpointEvery: 4), new SyntheticData(), interrupted, () => TinyCaptioning.Model(99)).Run())
        {
            var actual = Parameters(resumed);
            foreach (var (name, values) in expected) Assert.True(values.SequenceEqual(actual[name]), $"{name} differs after resume");
        }
    }

    private static Dictionary<string, float[]> Parameters(TrainingModel model) =>
        model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.detach().cpu().data<float>().ToArray());

    private sealed class Progress(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
