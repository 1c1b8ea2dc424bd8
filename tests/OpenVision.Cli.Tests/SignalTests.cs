using System.Diagnostics;
using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Tests;
using OpenVision.Tests.Parity;
using OpenVision.Lab.Datasets;

namespace OpenVision.Cli.Tests;

// Real signals to real CLI processes: SIGINT/SIGTERM stop at a safe point, leave only complete outputs, say what was
// done in one line, exit 130, and a rerun resumes where the command supports it.
public sealed class SignalTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-signals-").FullName;
    private static string Tiny => ReferenceModels.Folder("openvision-vit-tiny-patch16-160");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    [Fact]
    public void SigintDuringEmbedLeavesNothingPartial()
    {
        string inputs = CopiesOfReferenceImages(30);
        Directory.CreateDirectory(Temp("out"));
        string output = Temp("out/features.npy");
        var (code, stderr) = Interrupt(["embed", "--model", Tiny, "--images", inputs, "--output", output, "--batch-size", "2"],
            "INT", () => File.Exists(output + ".0.part"));
        Assert.True(code == 130, $"exit {code}: {stderr}");
        var line = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Matches(@"^openvision: error: interrupted after embedding \d+ of 450 images; nothing was written to .*features\.npy", line);
        Assert.Empty(Directory.GetFiles(Temp("out")));                       // no .part, no .tmp, no output

        var rerun = Cli.Run("embed", "--model", Tiny, "--images", inputs, "--output", output, "--batch-size", "32");
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Equal(2, Directory.GetFiles(Temp("out")).Length);            // the output and its image list
    }

    [Fact]
    public void SigtermDuringShardedEmbedKeepsCompleteShardsAndTheRerunResumes()
    {
        string inputs = CopiesOfReferenceImages(8);
        string job = Temp("job");
        string[] worker = ["embed", "--model", Tiny, "--images", inputs, "--output", job, "--shard", "0/1", "--shard-size", "8", "--batch-size", "2"];
        var (code, stderr) = Interrupt(worker, "TERM", () => File.Exists(Path.Combine(job, "shard-00000.done")));
        Assert.True(code == 130, $"exit {code}: {stderr}");
        Assert.Matches(@"openvision: error: interrupted: \d+ shards are complete in .*; rerun the same command", stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        Assert.DoesNotContain(Directory.GetFiles(job), f => f.EndsWith(".part", StringComparison.Ordinal) || f.Contains(".tmp", StringComparison.Ordinal));
        int completeBefore = Directory.GetFiles(job, "*.done").Length;
        Assert.InRange(completeBefore, 1, 14);                               // 15 shards: the run really was cut short

        var rerun = Cli.Run(worker);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Contains($"{completeBefore} already done", rerun.Stdout);
        var merge = Cli.Run("embed-merge", job, "--output", Temp("all.safetensors"));
        Assert.True(merge.ExitCode == 0, merge.Stdout + merge.Stderr);
        var keys = File.ReadAllLines(Temp("all.safetensors.keys.txt"));
        Assert.Equal(8 * 14, keys.Length);                                   // every decodable image once
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void SigtermDuringIndexBuildKeepsCommittedImagesAndTheRerunCompletes()
    {
        string inputs = CopiesOfReferenceImages(30);
        string index = Temp("photos.idx");
        string items = Path.Combine(index, "items.jsonl");
        string[] build = ["index", "build", "--model", Tiny, "--images", inputs, "--output", index, "--batch-size", "2"];
        var (code, stderr) = Interrupt(build, "TERM", () => File.Exists(items) && File.ReadAllLines(items).Length >= 4);
        Assert.True(code == 130, $"exit {code}: {stderr}");
        var line = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        var committed = System.Text.RegularExpressions.Regex.Match(line, @"^openvision: error: interrupted; .*photos\.idx holds (\d+) committed images; rerun the same command to continue$");
        Assert.True(committed.Success, line);
        int before = int.Parse(committed.Groups[1].Value);
        Assert.InRange(before, 4, 419);                                       // 420 decodable images: it stopped early
        Assert.DoesNotContain(Directory.GetFiles(index), f => f.Contains(".tmp", StringComparison.Ordinal) || f.EndsWith(".part", StringComparison.Ordinal));

        var rerun = Cli.Run([.. build[..^2], "--batch-size", "32"]);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Contains($"{420 - before} images added", rerun.Stdout);
        Assert.Contains($"{before} already indexed", rerun.Stdout);
        Assert.Contains("420 in the index", rerun.Stdout);
    }

    [Fact]
    public void SigtermDuringTrainSavesAResumableCheckpointAndTheRerunContinues()
    {
        var shards = FashionMnistConverter.Convert(FashionMnist.ReadTest(), Temp("shards"), new FashionMnistConversionOptions { Limit = 128, SamplesPerShard = 64 });
        var tiny = ModelRegistry.Get("openvision-vit-tiny-patch16-160");
        var model = tiny with
        {
            EmbedDim = 16,
            VisionCfg = tiny.VisionCfg with { ImageSize = 32, PatchSize = 8, Width = 32, Layers = 1, HeadWidth = 16 },
            TextCfg = tiny.TextCfg with { ContextLength = 16, Width = 16, Heads = 2, Layers = 1 },
        };
        File.WriteAllText(Temp("model.json"), ConfigJson.ToHubJson(model));
        File.WriteAllText(Temp("run.json"), $$"""
            { "model": "{{Temp("model.json")}}",
              "decoder": { "width": 16, "layers": 1, "heads": 2, "mlp_width": 32, "query_tokens": 8 },
              "stages": [ { "image_size": 16, "samples": 2400, "batch_size": 8, "peak_lr": 0.001, "warmup_samples": 0 } ],
              "checkpoint_every_steps": 1000, "seed": 1, "threads": 1 }
            """);
        string output = Temp("out");
        string metrics = Path.Combine(output, "metrics.jsonl");
        string[] train = ["train", "--config", Temp("run.json"), "--data", shards.Pattern, "--output", output];
        var (code, stderr) = Interrupt(train, "TERM", () => File.Exists(metrics) && new FileInfo(metrics).Length > 0);
        Assert.True(code == 130, $"exit {code}: {stderr}");
        var line = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Matches(@"^openvision: error: interrupted: resumable checkpoint saved in .*step-\d{7}; run the same command again to resume$", line);
        var steps = Steps(metrics);
        Assert.InRange(steps.Length, 1, 299);                                // 300 steps in all: it stopped early
        Assert.True(Directory.Exists(Path.Combine(output, "checkpoints", $"step-{steps[^1]:D7}")), "the checkpoint is at the last logged step");

        var rerun = Cli.Run(train);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Equal(Enumerable.Range(1, 300), Steps(metrics));               // continued, nothing repeated or skipped
    }

    private static int[] Steps(string metrics) => File.ReadAllLines(metrics).Where(l => l.Length > 0)
        .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).ToArray();

    // Starts the CLI, waits until `ready` holds, sends the signal with kill(1), and returns the exit code and stderr.
    private static (int Code, string Stderr) Interrupt(string[] args, string signal, Func<bool> ready)
    {
        using var process = Cli.Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!ready() && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(10);
        // stderr is read only once the process has exited: reading it earlier would wait for the whole run.
        if (process.HasExited) Assert.Fail($"the command finished before it could be interrupted (exit {process.ExitCode}): {stderr.Result}");
        using (var kill = Process.Start("kill", ["-s", signal, process.Id.ToString()]))
        {
            kill.WaitForExit();
            Assert.Equal(0, kill.ExitCode);
        }
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) { process.Kill(true); Assert.Fail("the command did not stop after the signal"); }
        return (process.ExitCode, stderr.Result);
    }

    private string CopiesOfReferenceImages(int copies)
    {
        string inputs = Temp("inputs");
        foreach (int copy in Enumerable.Range(0, copies))
        {
            Directory.CreateDirectory(Path.Combine(inputs, $"c{copy:D2}"));
            foreach (var file in Directory.GetFiles(ReferenceData.Path("preprocess", "images")))
                File.Copy(file, Path.Combine(inputs, $"c{copy:D2}", Path.GetFileName(file)));
        }
        return inputs;
    }
}
