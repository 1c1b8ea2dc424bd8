using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenVision.Checkpoints;
using OpenVision.Lab.Sharding;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Cli.Tests;

// Sharded embedding with real worker processes: any number of workers gives the same result, a killed worker's
// rerun finishes the job with nothing lost or duplicated, and the merge step refuses incomplete or corrupt jobs.
public sealed class ShardedEmbedTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-shards-").FullName;
    private static string Tiny => ReferenceModels.Folder("openvision-vit-tiny-patch16-160");
    private static string Images => ReferenceData.Path("preprocess", "images");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    private static string[] Worker(string images, string output, string shard, int shardSize) =>
        ["embed", "--model", Tiny, "--images", images, "--output", output, "--shard", shard, "--shard-size", shardSize.ToString(), "--batch-size", "2"];

    [Fact]
    public void OneWorkerAndThreeWorkersGiveIdenticalEmbeddings()
    {
        Succeed(Worker(Images, Temp("one"), "0/1", 4));
        for (int i = 0; i < 3; i++) Succeed(Worker(Images, Temp("three"), $"{i}/3", 4));
        Succeed("embed-merge", Temp("one"), "--output", Temp("one.safetensors"));
        Succeed("embed-merge", Temp("three"), "--output", Temp("three.safetensors"));

        var one = SafetensorsFile.Read(Temp("one.safetensors"))["image_features"];
        var three = SafetensorsFile.Read(Temp("three.safetensors"))["image_features"];
        Assert.Equal(File.ReadAllLines(Temp("one.safetensors.keys.txt")).Length, one.Shape[0]);
        Assert.True(one.Shape[0] >= 14, $"only {one.Shape[0]} of the reference images were embedded");
        Assert.Equal(one.Shape, three.Shape);
        Assert.Equal(one.Bytes, three.Bytes);
        Assert.Equal(File.ReadAllLines(Temp("one.safetensors.keys.txt")), File.ReadAllLines(Temp("three.safetensors.keys.txt")));

        // The per-shard Parquet tables hold the same keys and embeddings, in shard order.
        var table = Enumerable.Range(0, 4).SelectMany(k => ShardParquet.Read(Path.Combine(Temp("three"), $"shard-{k:D5}.parquet"))).ToList();
        Assert.Equal(File.ReadAllLines(Temp("three.safetensors.keys.txt")), table.Select(r => r.Key));
        Assert.Equal(MemoryMarshal.Cast<byte, float>(three.Bytes).ToArray(), table.SelectMany(r => r.Embedding));
    }

    [Fact]
    public void KilledWorkerRerunCompletesWithNothingLostOrDuplicated()
    {
        // 4 copies of the reference images in shards of 4: long enough to kill the worker after its first shard.
        string inputs = Temp("inputs");
        for (int copy = 0; copy < 4; copy++)
        {
            Directory.CreateDirectory(Path.Combine(inputs, $"c{copy}"));
            foreach (var file in Directory.GetFiles(Images)) File.Copy(file, Path.Combine(inputs, $"c{copy}", Path.GetFileName(file)));
        }
        string run = Temp("killed");
        using (var worker = Cli.Start(Worker(inputs, run, "0/1", 4)))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(run, "shard-00000.done")) && !worker.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            worker.Kill();
            worker.WaitForExit();
        }
        var interrupted = Cli.Run("embed-merge", run);
        Assert.Equal(1, interrupted.ExitCode);                                  // the job was really cut short
        Assert.Contains("missing:", interrupted.Stdout);

        Succeed(Worker(inputs, run, "0/1", 4));
        Succeed("embed-merge", run, "--output", Temp("resumed.safetensors"));
        Succeed(Worker(inputs, Temp("straight"), "0/1", 4));
        Succeed("embed-merge", Temp("straight"), "--output", Temp("straight.safetensors"));

        var keys = File.ReadAllLines(Temp("resumed.safetensors.keys.txt"));
        Assert.True(keys.Length >= 4 * 14, $"{keys.Length} rows");
        Assert.Equal(keys.Length, keys.Distinct().Count());
        Assert.Equal(File.ReadAllLines(Temp("straight.safetensors.keys.txt")), keys);
        Assert.Equal(SafetensorsFile.Read(Temp("straight.safetensors"))["image_features"].Bytes,
                     SafetensorsFile.Read(Temp("resumed.safetensors"))["image_features"].Bytes);
    }

    [Fact]
    public void MergeReportsCorruptShardsAndARerunRepairsThem()
    {
        string run = Temp("job");
        Succeed(Worker(Images, run, "0/1", 4));
        string shard = Path.Combine(run, "shard-00002.safetensors");
        var bytes = File.ReadAllBytes(shard);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(shard, bytes);

        var check = Cli.Run("embed-merge", run, "--output", Temp("merged.safetensors"));
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("corrupt: shard 2", check.Stdout);
        Assert.False(File.Exists(Temp("merged.safetensors")));

        var rerun = Succeed(Worker(Images, run, "0/1", 4));
        Assert.Contains("embedded 1 shards", rerun.Stdout);                     // only the damaged one
        Succeed("embed-merge", run, "--output", Temp("merged.safetensors"));
    }

    [Fact]
    public void WorkersRefuseAFolderOfAnotherJob()
    {
        Succeed(Worker(Images, Temp("job"), "0/2", 4));
        var other = Cli.Run(Worker(Images, Temp("job"), "1/2", 5));
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("another job", other.Stderr);
    }

    [Fact]
    public void ThreadLayoutBelongsToShardedMode()
    {
        var plain = Cli.Run("embed", "--model", Tiny, "--images", Images, "--output", Temp("plain.npy"), "--thread-layout", "all");
        Assert.Equal(1, plain.ExitCode);
        Assert.Contains("--thread-layout applies to sharded mode", plain.Stderr);
        Assert.False(File.Exists(Temp("plain.npy")));
        var unknown = Cli.Run([.. Worker(Images, Temp("job"), "0/1", 4), "--thread-layout", "fast"]);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("fast", unknown.Stderr);
        Assert.False(Directory.Exists(Temp("job")));
        Succeed([.. Worker(Images, Temp("job"), "0/1", 4), "--thread-layout", "all"]);
    }

    private static Cli.Result Succeed(params string[] args)
    {
        var result = Cli.Run(args);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {string.Join(' ', args)}\n{result.Stdout}\n{result.Stderr}");
        return result;
    }
}
