using OpenVision.IO;
using OpenVision.Onnx;

namespace OpenVision.Lab.Benchmarks;

/// <summary>What <c>openvision bench</c> measures: models, batch sizes, backends and the time per measurement.</summary>
public sealed record ThroughputBenchmarkOptions
{
    /// <summary>Built-in names (random weights), or folders/checkpoints (their weights).</summary>
    public IReadOnlyList<string> Models { get; init; } = ["openvision-vit-tiny-patch16-224", "openvision-vit-base-patch16-224", "openvision-vit-large-patch14-224"];

    /// <summary>Images per call of each encode_image measurement.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 8, 32];

    /// <summary>The largest batch size <see cref="Validate"/> accepts.</summary>
    public const int MaxBatchSize = 1024;

    /// <summary>Time budget per measurement.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Also time bfloat16 (with its error against float32).</summary>
    public bool BFloat16 { get; init; }

    /// <summary>Also time the int8 ONNX export (ONNX Runtime dynamic quantisation); needs the onnx backend.</summary>
    public bool Int8 { get; init; }

    /// <summary>Also time float32 with libtorch's operations in place of the float32 block kernels, alternating with
    /// them (before and after), where the kernels run.</summary>
    public bool LibtorchOps { get; init; }

    /// <summary>Folder of JPEGs for the end-to-end run; null writes 64 synthetic 500x375 JPEGs.</summary>
    public string? ImageFolder { get; init; }

    /// <summary>The machine's fp32 peak in GFLOP/s, a manual override; null uses the measured (cached) peak.</summary>
    public double? PeakGflops { get; init; }

    /// <summary>Measure the peak again even when the per-machine cache has it.</summary>
    public bool RemeasurePeak { get; init; }

    /// <summary>Folder of the per-machine peak cache (<see cref="CacheFolder.Default"/> by default).</summary>
    public string PeakCacheFolder { get; init; } = CacheFolder.Default;

    /// <summary>Timed span of the FMA loop on each thread when the peak is measured.</summary>
    public TimeSpan PeakDuration { get; init; } = TimeSpan.FromSeconds(0.3);

    /// <summary>Timed single-image calls per model for the batch-1 latency percentiles (0: none).</summary>
    public int LatencyRuns { get; init; } = 50;

    /// <summary>Busy-looping processes to run alongside the measurements (a machine shared with other work); with any,
    /// each TorchSharp row is also timed with all threads on every call (<see cref="OpenVision.Models.ContentionAwareThreads"/> off).</summary>
    public int BackgroundLoad { get; init; }

    /// <summary>Time the TorchSharp model.</summary>
    public bool Torch { get; init; } = true;

    /// <summary>Time the ONNX Runtime backend next to a plain ORT session of the same graph (the anchor).</summary>
    public bool Onnx { get; init; }

    /// <summary>ONNX Runtime session settings.</summary>
    public OnnxRuntimeOptions Runtime { get; init; } = new();

    /// <summary>Export with standard ONNX operators only (no fused com.microsoft Attention).</summary>
    public bool StandardOps { get; init; }

    /// <summary>Also profile this many runs per batch size with ONNX Runtime's profiler (0: none).</summary>
    public int ProfileRuns { get; init; }

    /// <summary>Another vision graph of the same weights (e.g. torch.onnx's export) to time in a plain ORT session.</summary>
    public string? ExternalGraph { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent setting.</summary>
    public ThroughputBenchmarkOptions Validate()
    {
        if (!Torch && !Onnx) throw new ArgumentException("nothing to time: neither the torch nor the onnx backend is selected");
        if (Models.Count == 0) throw new ArgumentException("--models needs at least one model");
        if (BackgroundLoad < 0) throw new ArgumentException("--background-load must be 0 or more");
        if (LatencyRuns < 0) throw new ArgumentException("--latency-runs must be 0 or more");
        if (PeakGflops is <= 0) throw new ArgumentException("--peak-gflops must be positive");
        if (BatchSizes.Count == 0 || BatchSizes.Any(b => b < 1)) throw new ArgumentException("--batch-sizes must be positive");
        // A batch's pixels, activations and the decoded images of the end-to-end rows grow with it: 1,024 images of a
        // large model already take gigabytes, and timing beyond that says nothing new about throughput.
        if (BatchSizes.Max() > MaxBatchSize) throw new ArgumentException($"--batch-sizes must be at most {MaxBatchSize}, not {BatchSizes.Max()}");
        if (!(Budget > TimeSpan.Zero)) throw new ArgumentException($"--seconds must be positive, not {Budget.TotalSeconds}");
        if (Int8 && !Onnx) throw new ArgumentException("--int8 needs --backend onnx or all (int8 runs on ONNX Runtime)");
        if (ExternalGraph is not null)
        {
            if (!Onnx) throw new ArgumentException("--onnx-file needs --backend onnx or all");
            if (Models.Count != 1) throw new ArgumentException("--onnx-file needs exactly one model in --models: the one whose weights the file holds");
            if (!File.Exists(ExternalGraph)) throw new FileNotFoundException($"--onnx-file: {ExternalGraph} not found");
        }
        return this;
    }
}
