using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenVision.Serving;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision serve --model M [--backend torch|onnx] [--host 127.0.0.1] [--port 8080] [--api-key KEY]
/// [--shutdown-timeout 10] [--no-batching] [--max-batch N] [--batch-delay MS]</c>; SIGINT or SIGTERM stops it after its requests in flight.</summary>
internal static class ServeCommand
{
    private const string ApiKeyVariable = "OPENVISION_API_KEY";

    public static Command Create()
    {
        var args = new ModelArguments();
        var backend = new BackendArguments();
        var host = new Option<string>("--host") { Description = "Address to listen on (loopback by default)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port (0: any free port)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key")
            { Description = $"Require 'Authorization: Bearer KEY' on every route but /health and the page (default: ${ApiKeyVariable}, which keeps it out of ps)" };
        var shutdownTimeout = new Option<double>("--shutdown-timeout")
            { Description = "Seconds a SIGINT or SIGTERM waits for requests in flight before closing their connections (the exit then waits for at most the one model call running)", DefaultValueFactory = _ => 10 };
        var noBatching = new Option<bool>("--no-batching") { Description = "Model calls never mix requests (each request runs alone, in calls of at most --max-batch items)" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most items in one model call; a larger request runs as several calls", DefaultValueFactory = _ => 32 };
        var batchDelay = BatchDelayOption();
        var index = new Option<string?>("--index") { Description = "Image index folder to serve POST /v1/search and the page's search from (built with the served model)" };
        var command = new Command("serve", "Serve embeddings, zero-shot classification and search over HTTP (OpenAI-compatible POST /v1/embeddings; POST /embed/text, /embed/image, /classify, /v1/search; GET /health, a page at /)")
            { host, port, apiKey, shutdownTimeout, noBatching, maxBatch, batchDelay, index };
        args.AddTo(command);
        backend.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            if (r.GetValue(maxBatch) < 1) throw new ArgumentException("--max-batch must be at least 1");
            double timeout = r.GetValue(shutdownTimeout);
            if (!(timeout >= 0 && timeout <= 3600)) throw new ArgumentException($"--shutdown-timeout must be 0 to 3600 seconds, not {timeout}");
            string? key = r.GetValue(apiKey) ?? (Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null);
            if (key is not null && string.IsNullOrWhiteSpace(key)) throw new ArgumentException("--api-key must not be empty");
            var options = new ServeOptions
            {
                Host = r.GetValue(host)!, Port = r.GetValue(port), DynamicBatching = !r.GetValue(noBatching), MaxBatchSize = r.GetValue(maxBatch), BatchDelay = BatchDelay(r.GetValue(batchDelay)),
                ApiKey = key, ShutdownTimeout = TimeSpan.FromSeconds(timeout), StopOnProcessSignals = true,
            };
            // Request logs and warnings go to stderr, one line each; stdout keeps the one line that says where the server is.
            using var logging = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
                .AddFilter("Microsoft", LogLevel.Warning)
                // The host logs a failed start with its stack trace and then throws it; the CLI's one error line says it.
                .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical)
                .AddFilter("OpenVision", LogLevel.Information)
                .Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
            using var encoder = backend.Load(r, args);
            using var searchIndex = r.GetValue(index) is { } folder ? OpenVision.Search.ImageIndex.Open(folder) : null;
            options = options with { SearchIndex = searchIndex };
            var server = EmbeddingServer.StartAsync(encoder, options, logging).GetAwaiter().GetResult();
            Console.WriteLine($"serving {encoder.Config.Name} ({encoder.Backend.GetType().Name}) on {server.Address} (Ctrl+C stops)");
            // The host's console lifetime turns SIGINT/SIGTERM into a graceful stop; Completion ends once it has drained.
            server.Completion.GetAwaiter().GetResult();
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Console.Error.WriteLine("openvision: stopped");
            return 0;
        }));
        return command;
    }

    /// <summary><c>--batch-delay MS</c>, shared with <c>bench serve</c>.</summary>
    internal static Option<double> BatchDelayOption() => new("--batch-delay")
    {
        Description = "Milliseconds a batch waits for more items once the model is free (0: what queued meanwhile)", DefaultValueFactory = _ => 0,
    };

    // Checked here as well as by the server's options so that the message names the flag (and a huge number is not an overflow).
    internal static TimeSpan BatchDelay(double milliseconds) => milliseconds is >= 0 and <= 1000
        ? TimeSpan.FromMilliseconds(milliseconds)
        : throw new ArgumentException($"--batch-delay must be 0 to 1000 ms, not {milliseconds}");
}
