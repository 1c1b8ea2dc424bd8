using System.Diagnostics;
using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Distributed.TestHost;
using static OpenVision.Distributed.TestHost.Tiny;
using OpenVision.Models;
using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Distributed.Mpi;
using OpenVision.Training.Models;
using TorchSharp;

// Usage: [mpirun -np N] dotnet OpenVision.Distributed.TestHost.dll train|selftest --output DIR [--steps K] [--batch B]
//   [--accumulation A] [--seed S] [--dtype float32|float64] [--width W] [--image-size S] [--checkpoint-every N]
//   [--step-delay-ms D] [--timeout-seconds T] [--no-parameters] [--shards PATTERN (WebDataset shards instead of synthetic data)]
// A host application: the same process-wide tuning the CLI opts into, before any tensor work.
OpenVision.OpenVisionRuntime.Configure();
var arguments = Arguments.Parse(args);
torch.set_num_threads(1);                 // one thread per rank: ranks share the machine's cores
return arguments.Mode switch
{
    "selftest" => SelfTest(arguments),
    "train" => Train(arguments),
    "allreduce" => RawAllReduce(arguments),
    _ => throw new ArgumentException($"unknown mode {arguments.Mode}"),
};

static int Train(Arguments a)
{
    var ranks = DistributedContext.FromEnvironment(new DistributedOptions
    {
        CollectiveTimeout = TimeSpan.FromSeconds(a.Int("timeout-seconds", 120)),
        OnTimeout = message => Console.Error.WriteLine(message),
    });
    try
    {
        string output = a.Required("output");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, $"rank-{ranks.Rank}.pid"), Environment.ProcessId.ToString());
        int steps = a.Int("steps", 4), batch = a.Int("batch", 8), width = a.Int("width", 16), imageSize = a.Int("image-size", 16), seed = a.Int("seed", 7);
        var dtype = a.Get("dtype", "float32") == "float64" ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
        var modelConfig = TinyConfig(width, imageSize);
        var decoder = new DecoderConfig { Width = 12, Layers = 1, Heads = 2, MlpWidth = 24, QueryTokens = QueryTokens, VocabSize = VocabSize };
        var config = new TrainConfig
        {
            Stages = [new TrainStage { ImageSize = imageSize, Samples = (long)steps * batch, BatchSize = batch, PeakLr = 1e-3, WarmupSamples = batch }],
            GradientAccumulation = a.Int("accumulation", 1),
            Seed = seed,
            CheckpointEverySteps = a.Int("checkpoint-every", 1000),
            CaptionTokens = QueryTokens,
            Threads = 1,
        };
        // Every rank starts from a different random model on purpose: the trainer's broadcast must make them rank 0's.
        ClipsTrainingModel Factory()
        {
            torch.manual_seed(seed + 1000 * ranks.Rank);
            var model = new ClipsTrainingModel(new OpenVisionModel(modelConfig), decoder);
            return dtype == torch.ScalarType.Float32 ? model : model.To(dtype);
        }
        int delay = a.Int("step-delay-ms", 0);
        var progress = new Progress(_ => { if (delay > 0) Thread.Sleep(delay); });
        ITrainingData data = a.Has("shards") ? new ShardData(a.Required("shards"), seed, ContextLength, QueryTokens, VocabSize)
            : new SampleData(ContextLength, QueryTokens, VocabSize);
        var clock = Stopwatch.StartNew();
        using var trained = new Trainer(config, data, output, Factory, ranks).Run(progress);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"rank {ranks.Rank}/{ranks.WorldSize}: {steps} steps in {seconds:F2} s, communication {ranks.CommunicationTime.TotalSeconds:F3} s");
        if (ranks.Rank == 0) WriteResult(output, trained, ranks, a.Has("no-parameters"));
        if (a.Int("bench-allreduce", 0) is > 0 and var repeats && ranks.WorldSize > 1) BenchAllReduce(trained, ranks, repeats);
        ranks.Dispose();                                                   // MPI_Finalize on the success path only
        return 0;
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"rank {ranks.Rank}: {e}");
        if (ranks.WorldSize > 1) ranks.Abort(1);                          // do not leave the other ranks waiting
        return 1;
    }
}

static void WriteResult(string output, ClipsTrainingModel model, IDistributedContext ranks, bool withoutParameters)
{
    var lines = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
    var timed = lines.Skip(1).ToList();                                    // the first step includes warm-up
    var result = new Dictionary<string, object>
    {
        ["world_size"] = ranks.WorldSize,
        ["losses"] = lines.Select(l => l.GetProperty("loss").GetDouble()).ToArray(),
        ["steps"] = lines.Select(l => l.GetProperty("step").GetInt64()).ToArray(),
        ["samples_per_second"] = timed.Count == 0 ? 0 : timed.Average(l => l.GetProperty("samples_per_second").GetDouble()),
        ["communication_seconds_per_step"] = timed.Count == 0 ? 0 : timed.Average(l => l.GetProperty("communication_seconds").GetDouble()),
        ["parameters"] = withoutParameters ? new Dictionary<string, double[]>() : model.NamedParameters().ToDictionary(
            p => p.Name, p => p.Parameter.detach().cpu().to(torch.ScalarType.Float64).data<double>().ToArray()),
    };
    File.WriteAllText(Path.Combine(output, "result.json"), JsonSerializer.Serialize(result));
    Console.WriteLine($"world {ranks.WorldSize}: {result["samples_per_second"]:F1} samples/s, {(double)result["communication_seconds_per_step"] * 1000:F2} ms communication per step");
}

// Pure gradient all-reduce cost, without the waiting for slower ranks that the per-step figure includes.
static void BenchAllReduce(ClipsTrainingModel model, IDistributedContext ranks, int repeats)
{
    var gradients = model.NamedParameters().Where(p => p.Parameter.requires_grad).Select(p => p.Parameter.detach().clone()).ToList();
    long bytes = gradients.Sum(g => g.numel() * g.ElementSize);
    ranks.AllReduceMean(gradients);                                        // warm-up
    ranks.Barrier();
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < repeats; i++) ranks.AllReduceMean(gradients);
    ranks.Barrier();
    double ms = clock.Elapsed.TotalMilliseconds / repeats;
    if (ranks.Rank == 0) Console.WriteLine($"all-reduce of {bytes / 1e6:F2} MB over {ranks.WorldSize} ranks: {ms:F2} ms ({2.0 * (ranks.WorldSize - 1) / ranks.WorldSize * bytes / ms / 1e6:F2} GB/s bus bandwidth)");
    gradients.ForEach(g => g.Dispose());
}

// MPI_Allreduce alone on a float buffer of --megabytes, to separate MPI's cost from the context's packing.
static int RawAllReduce(Arguments a)
{
    using var mpi = new MpiCollectives();
    var buffer = new float[a.Int("megabytes", 4) * 250_000];
    int repeats = a.Int("repeats", 20);
    mpi.AllReduceSum<float>(buffer);
    mpi.Barrier();
    double start = mpi.WallTime;
    for (int i = 0; i < repeats; i++) mpi.AllReduceSum<float>(buffer);
    double ms = (mpi.WallTime - start) * 1000 / repeats;
    if (mpi.Rank == 0) Console.WriteLine($"raw MPI_Allreduce of {buffer.Length * 4 / 1e6:F2} MB over {mpi.Size} ranks: {ms:F2} ms");
    return 0;
}

// Exercises every call of the MPI binding once and writes what each rank received.
static int SelfTest(Arguments a)
{
    using var mpi = new MpiCollectives();
    int r = mpi.Rank, n = mpi.Size;
    float[] sumF = [r + 1, 2 * (r + 1)];
    double[] sumD = [r + 0.5];
    long[] sumL = [(1L << 40) + r];
    int[] max = [r];
    float[] gathered = new float[2 * n];
    double[] gatheredV = new double[n * (n + 1) / 2];
    double[] scatterIn = [.. Enumerable.Range(0, 2 * n).Select(i => (double)(r + i))], scattered = new double[2];
    double[] broadcast = [r == n - 1 ? 42 : -1, r];
    double t0 = mpi.WallTime;
    mpi.AllReduceSum<float>(sumF);
    mpi.AllReduceSum<double>(sumD);
    mpi.AllReduceSum<long>(sumL);
    mpi.AllReduceMax<int>(max);
    mpi.AllGather<float>([r * 10f, r * 10f + 1], gathered);
    mpi.AllGatherV<double>([.. Enumerable.Repeat((double)r, r + 1)], gatheredV, [.. Enumerable.Range(1, n)]);
    mpi.ReduceScatterSum<double>(scatterIn, scattered);
    mpi.Broadcast<double>(broadcast, root: n - 1);
    mpi.Barrier();
    bool initialized = MpiCollectives.IsInitialized;
    double elapsed = mpi.WallTime - t0;
    mpi.Dispose();
    var result = new Dictionary<string, object>
    {
        ["rank"] = r, ["size"] = n, ["thread_level"] = mpi.ThreadLevel, ["sum_float"] = sumF, ["sum_double"] = sumD, ["sum_long"] = sumL,
        ["max_int"] = max, ["all_gather"] = gathered, ["all_gather_v"] = gatheredV, ["reduce_scatter"] = scattered,
        ["broadcast"] = broadcast, ["initialized"] = initialized, ["finalized"] = !MpiCollectives.IsInitialized,
        ["wtime_elapsed"] = elapsed, ["library"] = MpiCollectives.LibraryPath,
    };
    string output = a.Required("output");
    Directory.CreateDirectory(output);
    File.WriteAllText(Path.Combine(output, $"selftest-{r}.json"), JsonSerializer.Serialize(result));
    return 0;
}

static ModelConfig TinyConfig(int width, int imageSize) => new()
{
    Name = "distributed-test",
    EmbedDim = 8,
    VisionCfg = new VisionConfig
    {
        ImageSize = imageSize, PatchSize = 8, Width = width, Layers = 2, HeadWidth = 8,
        NoLnPre = true, PoolType = VisionPoolType.Avg, FinalLnAfterPool = true, NormKwargs = new(1e-6),
    },
    TextCfg = new TextConfig
    {
        ContextLength = ContextLength, VocabSize = VocabSize, Width = 12, Heads = 2, Layers = 1,
        PoolType = "last", NoCausalMask = true, NormKwargs = new(1e-6), ActKwargs = new("tanh"),
    },
};

namespace OpenVision.Distributed.TestHost
{
internal sealed class Progress(Action<TrainingProgress> action) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => action(value);
}

internal static class Tiny
{
    public const int ContextLength = 8, VocabSize = 40, QueryTokens = 6;
}
}
