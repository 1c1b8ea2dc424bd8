namespace OpenVision.Lab.Benchmarks;

/// <summary>Latency of single calls of one model at one batch size, warm.</summary>
/// <param name="Model">Model name.</param>
/// <param name="BatchSize">Images per call (1: a single request).</param>
/// <param name="Runs">Timed calls after warm-up.</param>
/// <param name="P50Milliseconds">Median latency.</param>
/// <param name="P99Milliseconds">99th percentile (nearest rank): with fewer than 100 runs, close to the slowest call.</param>
/// <param name="TorchThreads">libtorch intra-op threads during the calls.</param>
/// <param name="Backend">What ran the calls: "torch" (TorchSharp) or "onnx" (our ONNX Runtime backend).</param>
public sealed record LatencyResult(string Model, int BatchSize, int Runs, double P50Milliseconds, double P99Milliseconds, int TorchThreads, string Backend = "torch");
