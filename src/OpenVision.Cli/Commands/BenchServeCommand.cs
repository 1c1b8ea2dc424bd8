using OpenVision.IO;
using System.CommandLine;
using System.Text.Json;
using OpenVision.Lab.Benchmarks;
using OpenVision.Lab.Benchmarks.Serving;
using OpenVision.Pipelines;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench serve --model M [--clients 1 8 32] [--seconds S] [--requests N] [--batching on|off|both]</c>:
/// requests/s and p50/p99 latency of the HTTP service under closed-loop load, with dynamic batching on and off.</summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var backend = new BackendArguments();
        var clients = new Option<int[]>("--clients") { Description = "Concurrent client counts, one run each", AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [1, 8, 32] };
        var seconds = new Option<double>("--seconds") { Description = "Time budget of each run", DefaultValueFactory = _ => 10 };
        var requests = new Option<long?>("--requests") { Description = "Request budget of each run (stops at whichever comes first)" };
        var batching = new Option<string>("--batching") { Description = "on, off or both (dynamic batching of the server)", DefaultValueFactory = _ => "both" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most items in one model call when batching", DefaultValueFactory = _ => 32 };
        var batchDelay = ServeCommand.BatchDelayOption();
        var warmupSeconds = new Option<double>("--warmup-seconds") { Description = "Uncounted load before the first run, spread over the client counts (the JIT's later tiers)", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Uncounted requests per client before each run", DefaultValueFactory = _ => 2 };
        var images = new Option<string?>("--images") { Description = "Folder of images to upload (default: 16 synthetic 320x240 JPEGs)" };
        var json = new Option<string?>("--json") { Description = "Also write the report to this JSON file" };
        var command = new Command("serve", "Load-test the embedding service (POST /embed/image on 127.0.0.1): requests/s, p50 and p99 latency per client count")
            { clients, seconds, requests, batching, maxBatch, batchDelay, warmupSeconds, warmup, images, json };
        args.AddTo(command);
        backend.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            OutputFiles.Check("--json", r.GetValue(json));
            var options = new ServeLoadOptions
            {
                ClientCounts = r.GetValue(clients)!, Batching = ParseBatching(r.GetValue(batching)!), Duration = TimeSpan.FromSeconds(r.GetValue(seconds)),
                MaxRequests = r.GetValue(requests), MaxBatchSize = r.GetValue(maxBatch), BatchDelay = ServeCommand.BatchDelay(r.GetValue(batchDelay)), WarmupRequestsPerClient = r.GetValue(warmup),
                InitialWarmup = TimeSpan.FromSeconds(Math.Max(0, r.GetValue(warmupSeconds))),
            };
            options.Validate();
            var files = r.GetValue(images) is { } folder
                ? ImageFiles.Expand([folder])
                : SyntheticImages.WriteJpegs(Path.Combine(Path.GetTempPath(), "openvision-bench-serve-jpegs"), 16, 320, 240);
            if (files.Count == 0) throw new ArgumentException($"no images found in {r.GetValue(images)}");
            var uploads = files.Select(Upload.FromFile).ToList();
            using var encoder = backend.Load(r, args);
            Console.WriteLine($"{encoder.Config.Name} ({encoder.Backend.GetType().Name}, {encoder.ImageSize} px), {uploads.Count} images of {uploads.Average(u => u.Data.Length) / 1024:F1} KiB mean, " +
                $"{Environment.ProcessorCount} cores shared by clients and server, {options.Duration.TotalSeconds:G} s{(options.MaxRequests is { } n ? $" or {n} requests" : "")} per run, batch delay {options.BatchDelay.TotalMilliseconds:G} ms");
            Console.WriteLine(ServeLoadResult.Header);
            var report = ServeLoadBenchmark.RunAsync(encoder, uploads, options, new SyncProgress<ServeLoadResult>(row =>
            {
                Console.WriteLine(row.ToRow());
                if (row.FirstError is { } error) Console.Error.WriteLine($"  first error: {error}");
            })).GetAwaiter().GetResult();
            if (r.GetValue(json) is { } path) AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            long failed = report.Results.Sum(x => x.Errors);
            return failed == 0 ? 0 : CliErrors.Fail($"{failed} requests failed (first errors above)", 1);
        }));
        return command;
    }

    private static bool[] ParseBatching(string text) => text.ToLowerInvariant() switch
    {
        "both" => [true, false],
        "on" => [true],
        "off" => [false],
        _ => throw new ArgumentException($"--batching must be on, off or both, not '{text}'"),
    };
}
