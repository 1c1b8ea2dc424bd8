using System.Diagnostics;
using OpenVision.Backends;
using OpenVision.Layers;
using OpenVision.Models;
using OpenVision.Onnx.Selection;
using OpenVision.Pipelines;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks;

/// <summary>One measured configuration.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Task">"encode_image", "encode_text", "end_to_end" or "model_only" (the model alone, timed alternately with "end_to_end").</param>
/// <param name="DType">Element type used.</param>
/// <param name="BatchSize">Items per call.</param>
/// <param name="ItemsPerSecond">Median throughput over the timed repetitions.</param>
/// <param name="GflopsPerSecond">Achieved GFLOP/s (model arithmetic only).</param>
/// <param name="RelativeErrorVsFloat32">For reduced precision: max |x − x_fp32| / max |x_fp32| of the features; else null.</param>
public sealed record BenchmarkResult(string Model, string Task, string DType, int BatchSize, double ItemsPerSecond, double GflopsPerSecond, double? RelativeErrorVsFloat32);

/// <summary>Measures encode throughput: medians of timed repetitions after warm-up, nothing else running in the process.</summary>
public static class EncodeBenchmark
{
    /// <summary>Images per second of <see cref="OpenVisionModel.EncodeImage"/> in float32 on random pixels.</summary>
    public static BenchmarkResult Images(OpenVisionModel model, int batchSize, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(model);
        int size = model.Config.VisionCfg.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        return ImageRow(model, ScalarType.Float32, batchSize, MedianSeconds(() => model.EncodeImage(pixels).Dispose(), budget), null);
    }

    private static BenchmarkResult ImageRow(OpenVisionModel model, ScalarType dtype, int batchSize, double secondsPerCall, double? error)
    {
        double rate = batchSize / secondsPerCall;
        return new BenchmarkResult(model.Config.Name, "encode_image", dtype.ToString(), batchSize, rate, rate * VisionFlops.PerImage(model.Config) / 1e9, error);
    }

    /// <summary>float32 and <paramref name="dtype"/> rows of the same weights timed in alternating bursts of about 0.1 s,
    /// rotating which goes first (a converted copy of the model runs next to it), so that the machine's drift over
    /// seconds falls on both alike and their ratio is that of one moment. Each burst's first call is not kept: it finds
    /// the caches full of the other model's weights, which a process running one model never does. The reduced row
    /// carries max |x − x_fp32| / max |x_fp32| of the features.</summary>
    public static (BenchmarkResult Float32, BenchmarkResult Reduced) ImagesAgainstFloat32(OpenVisionModel model, int batchSize, TimeSpan budget, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(model);
        int size = model.Config.VisionCfg.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        using var reduced = new OpenVisionModel(model.Config);
        reduced.load_state_dict(model.state_dict());
        reduced.eval();
        reduced.ToInferenceDType(dtype);
        double error;
        using (NewDisposeScope())
        {
            var reference = model.EncodeImage(pixels);
            error = RelativeDifference(reduced.EncodeImage(pixels).to(ScalarType.Float32), reference);
        }
        var (float32, reducedSeconds) = AlternatingMedianSeconds(() => model.EncodeImage(pixels).Dispose(), () => reduced.EncodeImage(pixels).Dispose(), budget);
        return (ImageRow(model, ScalarType.Float32, batchSize, float32, null), ImageRow(model, dtype, batchSize, reducedSeconds, error));
    }

    /// <summary>The default float32 row with the float32 block kernels and the same calls through libtorch's operations
    /// (<c>--libtorch-ops</c>: before and after the kernels), timed in alternating bursts as
    /// <see cref="ImagesAgainstFloat32"/> does; the libtorch row carries max |Δ| / max |x| between the two paths'
    /// features.</summary>
    public static (BenchmarkResult Kernels, BenchmarkResult LibtorchOps) ImagesAgainstLibtorchOps(OpenVisionModel model, int batchSize, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(model);
        int size = model.Config.VisionCfg.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        void ThroughLibtorch()
        {
            using (Float32Ops.UseLibtorchOperations()) model.EncodeImage(pixels).Dispose();
        }
        double difference;
        using (NewDisposeScope())
        {
            var kernels = model.EncodeImage(pixels);
            Tensor libtorch;
            using (Float32Ops.UseLibtorchOperations()) libtorch = model.EncodeImage(pixels);
            difference = RelativeDifference(libtorch, kernels);
        }
        var (kernelSeconds, libtorchSeconds) = AlternatingMedianSeconds(() => model.EncodeImage(pixels).Dispose(), ThroughLibtorch, budget);
        return (ImageRow(model, ScalarType.Float32, batchSize, kernelSeconds, null) with { Task = KernelsTask },
                ImageRow(model, ScalarType.Float32, batchSize, libtorchSeconds, difference) with { Task = LibtorchOpsTask });
    }

    // max |x − reference| / max |reference|, the rows' "err vs fp32".
    private static double RelativeDifference(Tensor x, Tensor reference) =>
        x.sub(reference).abs().max().item<float>() / reference.abs().max().item<float>();

    /// <summary>Task names of <see cref="ImagesAgainstLibtorchOps"/>'s rows.</summary>
    public const string KernelsTask = "encode_image[f32 kernels]", LibtorchOpsTask = "encode_image[libtorch ops]";

    /// <summary>The default float32 row (<see cref="OpenVisionModel.Threads"/> adapting) and the same calls with every call
    /// on all threads (adaptation off), timed in four blocks, A B B A, of a quarter of twice the budget each, after a
    /// settling call or two per block. Not in short bursts: under load the first calls on all threads after a spell on
    /// one thread run fast on the scheduler's credit for the sleeping worker, which steady use on all threads never
    /// has.</summary>
    public static (BenchmarkResult Adaptive, BenchmarkResult AllThreads) ImagesAgainstAllThreads(OpenVisionModel model, int batchSize, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(model);
        int size = model.Config.VisionCfg.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        var (adaptive, allThreads) = BlockMedianSeconds(() => model.EncodeImage(pixels).Dispose(),
            () => OnAllThreads(model, () => { model.EncodeImage(pixels).Dispose(); return 0; }), budget);
        return (ImageRow(model, ScalarType.Float32, batchSize, adaptive, null), ImageRow(model, ScalarType.Float32, batchSize, allThreads, null));
    }

    /// <summary>Runs <paramref name="measure"/> with every call of the model on all threads (the layout pinned), then
    /// gives the model back its own setting.</summary>
    public static T OnAllThreads<T>(OpenVisionModel model, Func<T> measure)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(measure);
        using (model.Threads.PinFor(ThreadLayout.AllThreads)) return measure();
    }

    // Median seconds per call of two ways in blocks A B B A, each of about half the budget: 0.3 s of calls (at most a
    // quarter of the budget, at least one call) to settle, then timed calls until the block's time is up (at least 2).
    private static (double First, double Second) BlockMedianSeconds(Action first, Action second, TimeSpan budget)
    {
        var settleTime = TimeSpan.FromSeconds(Math.Min(0.3, budget.TotalSeconds / 4));
        var paths = new[] { (Run: first, Times: new List<double>()), (Run: second, Times: new List<double>()) };
        foreach (var path in paths) CallTiming.WarmUp(path.Run, budget);
        CallTiming.ForthAndBack([.. paths.Select(p => ((Action)(() => Settle(p.Run, settleTime)), (Action)(() => p.Times.Add(Seconds(p.Run)))))], budget / 2 - settleTime);
        foreach (var path in paths) path.Times.Sort();
        return (paths[0].Times[paths[0].Times.Count / 2], paths[1].Times[paths[1].Times.Count / 2]);
    }

    private static void Settle(Action run, TimeSpan time)
    {
        var clock = Stopwatch.StartNew();
        do run(); while (clock.Elapsed < time);
    }

    private static double Seconds(Action run)
    {
        var clock = Stopwatch.StartNew();
        run();
        return clock.Elapsed.TotalSeconds;
    }

    // Median seconds per call of two ways, in alternating bursts of about 0.1 s (rotating which goes first; each burst's
    // first call not kept), until the budget is spent twice over (at least 3 and at most 50 calls of each).
    private static (double First, double Second) AlternatingMedianSeconds(Action first, Action second, TimeSpan budget)
    {
        var paths = new[] { new List<double>(), new List<double>() };
        Action[] runs = [first, second];
        foreach (var run in runs) CallTiming.WarmUp(run, budget);
        var probe = Stopwatch.StartNew();
        foreach (var run in runs) run();
        int burst = (int)Math.Clamp(0.1 / (probe.Elapsed.TotalSeconds / 2), 1, 20);
        var total = Stopwatch.StartNew();
        for (int round = 0; paths[0].Count < 3 || (total.Elapsed < 2 * budget && paths[0].Count < 50); round++)
            for (int i = 0; i < 2; i++)
            {
                int which = (round + i) % 2;
                runs[which]();
                for (int k = 0; k < burst; k++)
                {
                    var one = Stopwatch.StartNew();
                    runs[which]();
                    paths[which].Add(one.Elapsed.TotalSeconds);
                }
            }
        foreach (var times in paths) times.Sort();
        return (paths[0][paths[0].Count / 2], paths[1][paths[1].Count / 2]);
    }

    /// <summary>Images per second of any backend's encode_image (normalised features, as the encoder asks for them) on
    /// seeded random pixels; <paramref name="task"/> and <paramref name="dtype"/> label the row.</summary>
    public static BenchmarkResult Backend(IEncoderBackend backend, string task, string dtype, int batchSize, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(backend);
        int size = backend.ImageSize;
        using var pixels = randn(batchSize, 3, size, size, generator: new Generator(0));
        double seconds = MedianSeconds(() => backend.EncodeImage(pixels, normalize: true).Dispose(), budget);
        double rate = batchSize / seconds;
        return new BenchmarkResult(backend.Config.Name, task, dtype, batchSize, rate, rate * VisionFlops.PerImage(backend.Config, size) / 1e9, null);
    }

    /// <summary>Texts per second of <see cref="OpenVisionModel.EncodeText"/> on tokenized captions.</summary>
    public static BenchmarkResult Texts(OpenVisionModel model, Tensor tokenIds, TimeSpan budget)
    {
        double seconds = MedianSeconds(() => model.EncodeText(tokenIds).Dispose(), budget);
        double rate = tokenIds.shape[0] / seconds;
        return new BenchmarkResult(model.Config.Name, "encode_text", "Float32", (int)tokenIds.shape[0], rate,
            rate * VisionFlops.PerText(model.Config) / 1e9, null);
    }

    /// <summary>Images per second from files to features in steady state, and of the model alone in the same moments:
    /// each batch read from the files (decoding and resizing, then the model) is followed or preceded, alternately, by
    /// one model-only call on an already decoded batch of the same size, so that the machine's drift over seconds falls
    /// on both alike and their ratio is that of one moment (measured minutes apart, the drift decided it). Medians of
    /// the batch times after <paramref name="warmupBatches"/> untimed batches (pipeline start, the JIT's tiering of the
    /// decode and resize code; no model-only calls between them), over at least <paramref name="minBatches"/> batches; the
    /// file list is repeated as needed.</summary>
    /// <returns>The "end_to_end" row and its "model_only" row (the same model, dtype and batch size).</returns>
    public static (BenchmarkResult EndToEnd, BenchmarkResult ModelOnly) EndToEnd(OpenVisionModel model, ImageTransform transform, IReadOnlyList<string> files,
                                                                                int batchSize, int minBatches = 9, int warmupBatches = 4)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("no image files for the end-to-end run", nameof(files));
        int total = (minBatches + warmupBatches) * batchSize;
        var inputs = new List<string>();
        while (inputs.Count < total) inputs.AddRange(files);
        inputs.RemoveRange(total, inputs.Count - total);
        var reader = new ImageBatchReader(transform, batchSize);
        using var decoded = reader.Read(inputs.Take(batchSize).ToList()).Single();
        if (decoded.Paths.Count == 0) throw new ArgumentException($"none of the first {batchSize} images could be decoded: {decoded.Skipped[0].Reason}", nameof(files));
        var fromFiles = new List<double>();
        var modelOnly = new List<double>();
        void ModelOnly(bool timed)
        {
            if (!timed) return;
            var one = Stopwatch.StartNew();
            model.EncodeImage(decoded.Pixels).Dispose();
            modelOnly.Add(one.Elapsed.TotalSeconds / decoded.Paths.Count);
        }
        int seen = 0;
        var reading = Stopwatch.StartNew();
        foreach (var batch in reader.Read(inputs))
        {
            double readSeconds = reading.Elapsed.TotalSeconds;
            using (batch)
            {
                bool timed = ++seen > warmupBatches && batch.Paths.Count > 0;
                if (seen % 2 == 0) ModelOnly(timed);
                var encoding = Stopwatch.StartNew();
                if (batch.Paths.Count > 0) model.EncodeImage(batch.Pixels).Dispose();
                if (timed) fromFiles.Add((readSeconds + encoding.Elapsed.TotalSeconds) / batch.Paths.Count);
                if (seen % 2 == 1) ModelOnly(timed);
            }
            reading.Restart(); // the reader decodes the next batch when the loop asks for it
        }
        double Rate(List<double> perImage)
        {
            perImage.Sort();
            return perImage.Count == 0 ? 0 : 1 / perImage[perImage.Count / 2];
        }
        BenchmarkResult Row(string task, double rate) =>
            new(model.Config.Name, task, "Float32", batchSize, rate, rate * VisionFlops.PerImage(model.Config) / 1e9, null);
        return (Row("end_to_end", Rate(fromFiles)), Row("model_only", Rate(modelOnly)));
    }

    /// <summary>Median seconds of <paramref name="run"/> once warm (<see cref="CallTiming.WarmUp"/>, for at most the budget), over
    /// repetitions until the budget is spent (at least 3, at most 50).</summary>
    public static double MedianSeconds(Action run, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(run);
        CallTiming.WarmUp(run, budget);
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || (total.Elapsed < budget && times.Count < 50))
        {
            var one = Stopwatch.StartNew();
            run();
            times.Add(one.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
