using System.Globalization;
using OpenVision.Serving;

namespace OpenVision.Lab.Benchmarks.Serving;

/// <summary>One measured run of the service.</summary>
/// <param name="Batching">Whether the server gathered concurrent requests into shared model calls.</param>
/// <param name="Clients">Concurrent closed-loop clients.</param>
/// <param name="Requests">Requests sent in the measured part.</param>
/// <param name="Responses">HTTP responses received.</param>
/// <param name="Errors">Non-2xx responses and requests without a response.</param>
/// <param name="Seconds">Length of the measured part.</param>
/// <param name="RequestsPerSecond">Responses per second.</param>
/// <param name="P50Ms">Median latency of answered requests (ms).</param>
/// <param name="P99Ms">99th-percentile latency (nearest rank; the maximum below 100 samples).</param>
/// <param name="MeanMs">Mean latency (ms).</param>
/// <param name="ImagesEmbedded">Images the server embedded during the run (its /health counter).</param>
/// <param name="ModelCalls">Image model calls the server made during the run.</param>
/// <param name="FirstError">The first error seen, or null.</param>
public sealed record ServeLoadResult(bool Batching, int Clients, long Requests, long Responses, long Errors, double Seconds, double RequestsPerSecond,
    double P50Ms, double P99Ms, double MeanMs, long ImagesEmbedded, long ModelCalls, string? FirstError)
{
    /// <summary>Images per model call: above 1 only when batching gathered concurrent requests.</summary>
    public double ImagesPerCall => ModelCalls > 0 ? (double)ImagesEmbedded / ModelCalls : 0;

    /// <summary>Column titles matching <see cref="ToRow"/>.</summary>
    public static string Header => string.Format(CultureInfo.InvariantCulture, "{0,-9} {1,7} {2,9} {3,7} {4,9} {5,9} {6,9} {7,11}",
        "batching", "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms", "images/call");

    /// <summary>One table row (invariant culture).</summary>
    public string ToRow() => string.Format(CultureInfo.InvariantCulture, "{0,-9} {1,7} {2,9} {3,7} {4,9:F2} {5,9:F1} {6,9:F1} {7,11:F2}",
        Batching ? "on" : "off", Clients, Requests, Errors, RequestsPerSecond, P50Ms, P99Ms, ImagesPerCall);
}

/// <summary>Everything one <see cref="ServeLoadBenchmark"/> measured, with the conditions needed to read the figures.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Backend">Encoder type.</param>
/// <param name="ImageSize">Model input resolution.</param>
/// <param name="Cores">Logical cores of the machine (clients and server share them).</param>
/// <param name="ImageBytes">Mean size of the uploaded images.</param>
/// <param name="MaxBatchSize">Largest model call when batching.</param>
/// <param name="Results">One row per batching setting and client count, in the order run.</param>
public sealed record ServeLoadReport(string Model, string Backend, int ImageSize, int Cores, double ImageBytes, int MaxBatchSize, IReadOnlyList<ServeLoadResult> Results);
