using System.Text.Json;
using OpenVision.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests;

/// <summary>Deterministic synthetic data: sample i's pixels and texts depend only on i, like a seeded shard stream.</summary>
internal sealed class SyntheticData : ITrainingData
{
    public List<(int ImageSize, long Start)> Requests { get; } = [];

    public long SkippedSamples => 0;

    public long SamplesWithoutCaption => 0;

    public IEnumerable<TrainingBatch> Stream(int imageSize, int batchSize, DataPosition start, CancellationToken cancellationToken)
    {
        Requests.Add((imageSize, start.SamplesConsumed));
        for (long first = start.SamplesConsumed; ; first += batchSize)
        {
            var pixels = new List<Tensor>();
            var samples = new List<TinyModels.Batch>();
            for (long i = first; i < first + batchSize; i++)
            {
                pixels.Add(torch.randn([1, 3, imageSize, imageSize], generator: new Generator((ulong)i)));
                samples.Add(TinyModels.MakeBatch(1, (int)(i % 100_000)));          // its texts
            }
            var keys = Enumerable.Range(0, batchSize).Select(i => $"s{first + i}").ToList();
            yield return new TrainingBatch(keys, keys.Select(_ => -1).ToList(), torch.cat(pixels, 0), torch.cat(samples.Select(s => s.AltTexts).ToList(), 0),
                torch.cat(samples.Select(s => s.SubCaptions).ToList(), 0), torch.cat(samples.Select(s => s.Captions).ToList(), 0),
                0, new DataPosition(0, first + batchSize));
            foreach (var p in pixels) p.Dispose();
            foreach (var s in samples) s.Dispose();
        }
    }
}

public sealed class TrainerTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("ov-train-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    private static TrainConfig Config(int checkpointEvery = 100) => new()
    {
        Stages =
        [
            new TrainStage { ImageSize = 8, Samples = 16, BatchSize = 4, PeakLr = 1e-3, WarmupSamples = 4 },
            new TrainStage { ImageSize = 16, Samples = 12, BatchSize = 4, PeakLr = 5e-4, WarmupSamples = 0 },
        ],
        GradientAccumulation = 2,
        Seed = 3,
        CheckpointEverySteps = checkpointEvery,
    };

    private static Dictionary<string, float[]> Parameters(OpenVision.Training.Models.ClipsTrainingModel model) =>
        model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.detach().cpu().data<float>().ToArray());

    [Fact]
    public void RunsStagesAtIncreasingResolutionAndLogsEveryStep()
    {
        var data = new SyntheticData();
        using var model = new Trainer(Config(), data, output, () => TinyModels.Model(1)).Run();
        Assert.Equal([(8, 0L), (16, 16L)], data.Requests);            // stage 2 continues the stream where stage 1 stopped
        var lines = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(7, lines.Count);                                   // 4 + 3 steps
        Assert.Equal([8, 8, 8, 8, 16, 16, 16], lines.Select(l => l.GetProperty("image_size").GetInt32()));
        Assert.All(lines, l => Assert.True(double.IsFinite(l.GetProperty("loss").GetDouble())));
        Assert.Equal(0, lines[0].GetProperty("lr").GetDouble());        // warmup starts at 0, as optax does
        Assert.NotNull(new TrainingCheckpoints(output).Latest);
    }

    // A run killed between checkpoints resumes from the last one and ends with the parameters of an uninterrupted run.
    [Fact]
    public void ResumeAfterKillMatchesUninterruptedRun()
    {
        string uninterrupted = Path.Combine(output, "a"), interrupted = Path.Combine(output, "b");
        Dictionary<string, float[]> expected;
        using (var model = new Trainer(Config(checkpointEvery: 2), new SyntheticData(), uninterrupted, () => TinyModels.Model(1)).Run())
            expected = Parameters(model);

        var kill = new Progress(p => { if (p.Last.Step == 5) throw new OperationCanceledException("killed"); });
        Assert.Throws<OperationCanceledException>(() => new Trainer(Config(checkpointEvery: 2), new SyntheticData(), interrupted, () => TinyModels.Model(1)).Run(kill));
        Assert.EndsWith("step-0000004", new TrainingCheckpoints(interrupted).Latest);

        var data = new SyntheticData();
        using (var resumed = new Trainer(Config(checkpointEvery: 2), data, interrupted, () => TinyModels.Model(99)).Run())
        {
            Assert.Equal((16, 16L), data.Requests[0]);                 // resumed at stage 2's first step, sample 16
            var actual = Parameters(resumed);
            foreach (var (name, values) in expected) Assert.True(values.SequenceEqual(actual[name]), $"{name} differs after resume");
        }
        Assert.Equal(File.ReadAllLines(Path.Combine(uninterrupted, "metrics.jsonl")).Select(Losses),
                     File.ReadAllLines(Path.Combine(interrupted, "metrics.jsonl")).Select(Losses));
    }

    private static double Losses(string line) => JsonDocument.Parse(line).RootElement.GetProperty("loss").GetDouble();

    // Resuming would mix two runs, or start over and delete the checkpoints there are: both are refused, and the
    // folder is left as it was.
    [Fact]
    public void AResumeWithAnotherConfigOrADanglingPointerIsRefused()
    {
        string run = Path.Combine(output, "c"), checkpoints = Path.Combine(run, "checkpoints");
        var kill = new Progress(p => { if (p.Last.Step == 3) throw new OperationCanceledException("killed"); });
        Assert.Throws<OperationCanceledException>(() => new Trainer(Config(checkpointEvery: 2), new SyntheticData(), run, () => TinyModels.Model(1)).Run(kill));
        string[] Snapshot() => [.. Directory.GetFileSystemEntries(run, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(p => File.Exists(p) ? $"{p} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p)))}" : p)];
        var before = Snapshot();

        var other = Assert.Throws<ArgumentException>(() => new Trainer(Config(checkpointEvery: 2) with { Seed = 4 }, new SyntheticData(), run, () => TinyModels.Model(1)).Run());
        Assert.Equal($"{run} holds a run of another config ({Path.Combine(run, "train_config.json")} differs from this one); resume with that config, or give a new output folder", other.Message);
        Assert.Equal(before, Snapshot());

        File.WriteAllText(Path.Combine(checkpoints, "latest"), "step-9999999");
        before = Snapshot();
        var dangling = Assert.Throws<OpenVision.Checkpoints.CheckpointFormatException>(() => new Trainer(Config(checkpointEvery: 2), new SyntheticData(), run, () => TinyModels.Model(1)).Run());
        Assert.StartsWith($"{Path.Combine(checkpoints, "latest")}: names the checkpoint 'step-9999999', which is not in {checkpoints}", dangling.Message);
        Assert.Equal(before, Snapshot());
        Assert.True(Directory.Exists(Path.Combine(checkpoints, "step-0000002")));

        // A checkpoint whose files do not read is damaged, named, whatever the reader threw.
        File.WriteAllText(Path.Combine(checkpoints, "latest"), "step-0000002");
        string optimizer = Path.Combine(checkpoints, "step-0000002", "optimizer.bin");
        File.WriteAllBytes(optimizer, File.ReadAllBytes(optimizer)[..1000]);
        var truncated = Assert.Throws<OpenVision.Checkpoints.CheckpointFormatException>(() => new Trainer(Config(checkpointEvery: 2), new SyntheticData(), run, () => TinyModels.Model(1)).Run());
        Assert.StartsWith($"{optimizer}: cannot be read (", truncated.Message);
        string state = Path.Combine(checkpoints, "step-0000002", "state.json");
        File.WriteAllText(state, "{garbage");
        var garbage = Assert.Throws<OpenVision.Checkpoints.CheckpointFormatException>(() => new Trainer(Config(checkpointEvery: 2), new SyntheticData(), run, () => TinyModels.Model(1)).Run());
        Assert.StartsWith($"{state}: cannot be read (", garbage.Message);
    }

    [Fact]
    public void InvalidConfigsNameTheProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => (Config() with { GradientAccumulation = 3 }).Validate());
        Assert.Contains("not divisible", e.Message);
        // Values that used to fail deep inside as a division by zero or an overflow.
        TrainConfig WithStage(TrainStage stage) => Config() with { Stages = [stage] };
        var zero = Assert.Throws<ArgumentException>(() => WithStage(new TrainStage { ImageSize = 8, Samples = 0, BatchSize = 0, PeakLr = 0 }).Validate());
        Assert.Contains("stage 0: image_size and batch_size must be positive", zero.Message);
        Assert.Contains("stage 0: peak_lr must be in (0, 1000], not 0", zero.Message);
        Assert.Contains("peak_lr must be in (0, 1000], not 1E+300",
            Assert.Throws<ArgumentException>(() => WithStage(new TrainStage { ImageSize = 8, Samples = 16, BatchSize = 4, PeakLr = 1e300 }).Validate()).Message);
        Assert.Contains("image_size 2000000000 is above 4096",
            Assert.Throws<ArgumentException>(() => WithStage(new TrainStage { ImageSize = 2_000_000_000, Samples = 16, BatchSize = 4, PeakLr = 1e-3 }).Validate()).Message);
        Assert.Contains("100000000000000 samples are more than 2147483647 steps of 8",
            Assert.Throws<ArgumentException>(() => WithStage(new TrainStage { ImageSize = 8, Samples = 100_000_000_000_000, BatchSize = 8, PeakLr = 1e-3 }).Validate()).Message);
        string path = Path.Combine(output, "bad.json");
        File.WriteAllText(path, """{ "stages": [], "learning_rate": 1 }""");
        var loadError = Assert.Throws<ArgumentException>(() => TrainConfig.Load(path));
        Assert.Contains("learning_rate", loadError.Message);
        Assert.Contains(path, loadError.Message);
        File.WriteAllText(path, """{ "stages": [{ "image_size": 8, "samples": 16, "batch_size": 4, "peak_lr": 1e-3, "warmp": 3 }] }""");
        var nested = Assert.Throws<ArgumentException>(() => TrainConfig.Load(path)).Message;
        Assert.StartsWith($"{path}: ", nested);
        Assert.Contains("'warmp'", nested);
        File.WriteAllText(path, "null");
        Assert.Equal($"{path}: empty config", Assert.Throws<ArgumentException>(() => TrainConfig.Load(path)).Message);
    }

    private sealed class Progress(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
