using System.Net.Http.Json;
using OpenVision.Serving;

namespace OpenVision.Lab.Benchmarks.Serving;

/// <summary>Measures the embedding service under closed-loop load: for each batching setting a real server starts on a
/// free loopback port (the first after an initial warm-up of every client count), and for each client count a warm-up and then a measured run of <see cref="LoadGenerator"/>
/// POSTing images to <c>/embed/image</c>. Clients and server share the process and its cores, as a co-located proxy would.</summary>
public static class ServeLoadBenchmark
{
    /// <summary>Runs every configuration of <paramref name="options"/>; <paramref name="progress"/> gets each row as it is measured.</summary>
    public static async Task<ServeLoadReport> RunAsync(OpenVisionEncoder encoder, IReadOnlyList<Upload> images, ServeLoadOptions options,
        IProgress<ServeLoadResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        options.Validate();
        if (images.Count == 0) throw new ArgumentException("the load needs at least one image");
        var results = new List<ServeLoadResult>();
        foreach (bool batching in options.Batching)
        {
            var serve = new ServeOptions { Port = 0, DynamicBatching = batching, MaxBatchSize = options.MaxBatchSize, BatchDelay = options.BatchDelay };
            await using var server = await EmbeddingServer.StartAsync(encoder, serve, cancellationToken).ConfigureAwait(false);
            using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
            if (results.Count == 0 && options.InitialWarmup > TimeSpan.Zero)
                foreach (int clients in options.ClientCounts)
                    await WarmUp(client, images, clients, options.InitialWarmup / options.ClientCounts.Count, null, cancellationToken).ConfigureAwait(false);
            foreach (int clients in options.ClientCounts)
            {
                if (options.WarmupRequestsPerClient > 0)
                    await WarmUp(client, images, clients, TimeSpan.MaxValue, (long)clients * options.WarmupRequestsPerClient, cancellationToken).ConfigureAwait(false);
                var before = await Health(client, cancellationToken).ConfigureAwait(false);
                var run = await LoadGenerator.RunAsync(client, images, clients, options.Duration, options.MaxRequests, cancellationToken).ConfigureAwait(false);
                var after = await Health(client, cancellationToken).ConfigureAwait(false);
                var result = new ServeLoadResult(batching, clients, run.Requests, run.Responses, run.Errors, run.Elapsed.TotalSeconds, run.RequestsPerSecond,
                    run.PercentileMs(50), run.PercentileMs(99), run.LatenciesMs.Length > 0 ? run.LatenciesMs.Average() : 0,
                    after.ImageItems - before.ImageItems, after.ImageCalls - before.ImageCalls, run.FirstError);
                results.Add(result);
                progress?.Report(result);
            }
        }
        return new ServeLoadReport(encoder.Config.Name, encoder.Backend.GetType().Name, encoder.ImageSize, Environment.ProcessorCount,
            images.Average(i => (double)i.Data.Length), options.MaxBatchSize, results);
    }

    // Uncounted load; the first failure stops the benchmark.
    private static async Task WarmUp(HttpClient client, IReadOnlyList<Upload> images, int clients, TimeSpan duration, long? requests,
        CancellationToken cancellationToken)
    {
        var warmup = await LoadGenerator.RunAsync(client, images, clients, duration, requests, cancellationToken).ConfigureAwait(false);
        if (warmup.Errors > 0) throw new InvalidOperationException($"the server failed during warm-up: {warmup.FirstError}");
    }

    private static async Task<HealthResponse> Health(HttpClient client, CancellationToken cancellationToken) =>
        await client.GetFromJsonAsync<HealthResponse>("health", cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException("the server's /health answer was empty");
}
