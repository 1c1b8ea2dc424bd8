using System.Diagnostics;

namespace OpenVision.Training.Tests.Distributed;

// Data-parallel training in real processes under mpirun, compared with one process at the same global batch.
public sealed class DataParallelTrainingTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ov-ddp-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Folder(string name) => Path.Combine(root, name);

    // float32: losses agree to 1e-6 relative and parameters to 1e-6 + 1e-5·|p| after 4 AdamW steps, except the key
    // bias of each attention: its exact gradient is 0 (softmax ignores a constant shift of every key score), so it
    // receives pure rounding noise, which Adam normalises into steps of ±lr whose sign depends on summation order.
    [Fact]
    public void TwoRanksMatchOneRankInFloat32()
    {
        string[] common = ["train", "--steps", "4", "--batch", "8", "--seed", "3"];
        TestHost.Succeed(0, [.. common, "--output", Folder("one")]);
        TestHost.Succeed(2, [.. common, "--output", Folder("two")]);
        var one = TestHost.ReadResult(Folder("one"));
        var two = TestHost.ReadResult(Folder("two"));
        Assert.Equal(2, two.WorldSize);
        for (int i = 0; i < one.Losses.Length; i++) Assert.Equal(one.Losses[i], two.Losses[i], one.Losses[i] * 1e-6);
        foreach (var (name, expected) in one.Parameters)
        {
            var actual = two.Parameters[name];
            for (int i = 0; i < expected.Length; i++)
            {
                bool keyBias = name.EndsWith("attn.in_proj_bias") && i >= expected.Length / 3 && i < 2 * expected.Length / 3;
                double tolerance = keyBias ? 2 * 4 * 1e-3 : 1e-6 + 1e-5 * Math.Abs(expected[i]);
                Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{name}[{i}]: {expected[i]} vs {actual[i]}");
            }
        }
    }

    // float64 with gradient accumulation (global micro-batch 4 = 2 ranks × 2) against one process without it: the
    // accumulation is exact and the all-gather runs over the cached features, so every parameter is within 1e-9.
    [Fact]
    public void TwoRanksWithAccumulationMatchOneRankWithoutInFloat64()
    {
        string[] common = ["train", "--steps", "3", "--batch", "8", "--dtype", "float64", "--seed", "4"];
        TestHost.Succeed(0, [.. common, "--output", Folder("one")]);
        TestHost.Succeed(2, [.. common, "--accumulation", "2", "--output", Folder("two")]);
        AssertSameRun(TestHost.ReadResult(Folder("one")), TestHost.ReadResult(Folder("two")), 1e-9);
    }

    // Real WebDataset shards (shuffled, augmented): 20 samples, global batch 8, so 6 steps cross two epoch ends, each
    // dropping 4 samples. Each rank decodes only its half of every global batch; the runs agree to 1e-9 in float64.
    [Fact]
    public void TwoRanksMatchOneRankOnWebDatasetShardsAcrossEpochs()
    {
        string pattern = Data.DataFixtures.WriteShards(Folder("shards"), 20, 5);
        string[] common = ["train", "--steps", "6", "--batch", "8", "--dtype", "float64", "--seed", "6", "--shards", pattern];
        TestHost.Succeed(0, [.. common, "--output", Folder("one")]);
        TestHost.Succeed(2, [.. common, "--output", Folder("two")]);
        var two = TestHost.ReadResult(Folder("two"));
        Assert.Equal(2, two.WorldSize);
        AssertSameRun(TestHost.ReadResult(Folder("one")), two, 1e-9);
    }

    // kill -9 of one rank ends the whole job promptly (mpirun notices the death and kills the rest); the run then
    // resumes from the last checkpoint in one process and ends where an uninterrupted one-process run ends.
    [Fact]
    public void KilledRankEndsTheJobAndOneRankResumes()
    {
        string[] common = ["train", "--steps", "12", "--batch", "8", "--dtype", "float64", "--checkpoint-every", "4", "--seed", "5"];
        string run = Folder("killed");
        using (var job = TestHost.Start(2, [.. common, "--output", run, "--step-delay-ms", "300"]))
        {
            WaitFor(() => new TrainingCheckpoints(run).Latest is not null && File.Exists(Path.Combine(run, "rank-1.pid")), job);
            TestHost.Signal(run, rank: 1, signal: 9);
            var ended = TestHost.Wait(job, TimeSpan.FromSeconds(60), common);
            Assert.NotEqual(0, ended.ExitCode);
            Assert.True(ended.Elapsed < TimeSpan.FromSeconds(30), $"the job took {ended.Elapsed} to end after the kill");
        }
        string resumedFrom = Path.GetFileName(new TrainingCheckpoints(run).Latest!);
        Assert.NotEqual("step-0000012", resumedFrom);

        TestHost.Succeed(0, [.. common, "--output", run]);
        TestHost.Succeed(0, [.. common, "--output", Folder("uninterrupted")]);
        var resumed = TestHost.ReadResult(run);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), resumed.Steps);   // each step once, none lost
        AssertSameRun(TestHost.ReadResult(Folder("uninterrupted")), resumed, 1e-9);
    }

    // A rank that hangs without dying (SIGSTOP, or a lost network) is invisible to mpirun: the other rank's watchdog
    // aborts the job when its collective exceeds the timeout.
    [Fact]
    public void HungRankTripsTheCollectiveWatchdog()
    {
        string run = Folder("hung");
        string[] args = ["train", "--steps", "2000", "--batch", "8", "--checkpoint-every", "2", "--timeout-seconds", "5", "--output", run];
        using var job = TestHost.Start(2, args);
        try
        {
            WaitFor(() => new TrainingCheckpoints(run).Latest is not null && File.Exists(Path.Combine(run, "rank-1.pid")), job);
            TestHost.Signal(run, rank: 1, signal: 19);
            var ended = TestHost.Wait(job, TimeSpan.FromSeconds(90), args);
            Assert.Equal(124, ended.ExitCode);
            Assert.Contains("hung or unreachable", ended.Stderr);
        }
        finally
        {
            try { TestHost.Signal(run, rank: 1, signal: 9); } catch (InvalidOperationException) { }   // already gone
        }
    }

    private static void AssertSameRun(TestHost.TrainResult expected, TestHost.TrainResult actual, double tolerance)
    {
        Assert.Equal(expected.Steps, actual.Steps);
        for (int i = 0; i < expected.Losses.Length; i++) Assert.Equal(expected.Losses[i], actual.Losses[i], tolerance);
        foreach (var (name, values) in expected.Parameters)
            for (int i = 0; i < values.Length; i++)
                Assert.True(Math.Abs(values[i] - actual.Parameters[name][i]) <= tolerance, $"{name}[{i}]: {values[i]} vs {actual.Parameters[name][i]}");
    }

    private static void WaitFor(Func<bool> condition, Process job)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (job.HasExited) throw new InvalidOperationException($"the job ended early with {job.ExitCode}: {job.StandardError.ReadToEnd()}");
            if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("no checkpoint appeared");
            Thread.Sleep(100);
        }
    }
}
