using System.CommandLine;
using OpenVision.Serving;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision serve --model M [--backend torch|onnx] [--host 127.0.0.1] [--port 8080] [--no-batching] [--max-batch N]</c>.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var backend = new BackendArguments();
        var host = new Option<string>("--host") { Description = "Address to listen on (loopback by default)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "TCP port (0: any free port)", DefaultValueFactory = _ => 8080 };
        var noBatching = new Option<bool>("--no-batching") { Description = "One model call per request instead of gathering concurrent requests" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most items in one model call", DefaultValueFactory = _ => 32 };
        var command = new Command("serve", "Serve embeddings and zero-shot classification over HTTP (POST /embed/text, /embed/image, /classify; GET /health, /)")
            { host, port, noBatching, maxBatch };
        args.AddTo(command);
        backend.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            if (r.GetValue(maxBatch) < 1) throw new ArgumentException("--max-batch must be at least 1");
            using var encoder = backend.Load(r, args);
            var options = new ServeOptions
            {
                Host = r.GetValue(host)!, Port = r.GetValue(port), DynamicBatching = !r.GetValue(noBatching), MaxBatchSize = r.GetValue(maxBatch),
            };
            var server = EmbeddingServer.StartAsync(encoder, options).GetAwaiter().GetResult();
            Console.WriteLine($"serving {encoder.Config.Name} ({encoder.Backend.GetType().Name}) on {server.Address} (Ctrl+C stops)");
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
            AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
            try { Task.Delay(Timeout.Infinite, stop.Token).Wait(); } catch (AggregateException) { }
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }
}
