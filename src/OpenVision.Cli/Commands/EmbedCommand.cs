using System.CommandLine;
using OpenVision.IO;
using OpenVision.Lab.Sharding;
using OpenVision.Models;
using OpenVision.Pipelines;
using OpenVision.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision embed --model M [--images PATH…|DIR] [--texts TEXT…] [--pixels X.npy] [--text-ids I.npy]
/// --output OUT.(npy|safetensors) [--no-normalize] [--dtype …] [--tokens] [--layer N] [--batch-size B]</c>; with
/// <c>--shard I/N</c> or <c>--shard-size K</c> [<c>--thread-layout parts|all|adaptive</c>], a worker of a sharded job writing into the folder --output
/// (see <see cref="ShardedEmbedding"/>; <c>embed-merge</c> joins the shards).</summary>
internal static class EmbedCommand
{
    private sealed record Request(string[] Images, string[] Texts, string? Pixels, string? TextIds, string Output,
        bool Normalize, bool Tokens, int? Layer, int BatchSize);

    public static Command Create()
    {
        var args = new ModelArguments();
        var backend = new BackendArguments();
        var images = new Option<string[]>("--images") { Description = "Image files or folders (searched recursively)", AllowMultipleArgumentsPerToken = true };
        var texts = new Option<string[]>("--texts") { Description = "Texts to embed", AllowMultipleArgumentsPerToken = true };
        var pixels = new Option<string?>("--pixels") { Description = "Preprocessed images [N,3,S,S] float (.npy)" };
        var textIds = new Option<string?>("--text-ids") { Description = "Token ids [M,C] int64 (.npy)" };
        var output = new Option<string>("--output", "-o") { Description = "OUT.npy (one array) or OUT.safetensors", Required = true };
        var noNormalize = new Option<bool>("--no-normalize") { Description = "Keep raw (not L2-normalized) features" };
        var tokens = new Option<bool>("--tokens") { Description = "Also write last-block patch tokens (image_tokens)" };
        var layer = new Option<int?>("--layer") { Description = "Also write this block's output (image_hidden), e.g. -2 for LLaVA" };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Images per model call", DefaultValueFactory = _ => 32 };
        var shard = new Option<string?>("--shard") { Description = "Embed worker I's share of N (I/N, 0-based) into the folder --output; default from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX" };
        var shardSize = new Option<int?>("--shard-size") { Description = "Images per input shard in sharded mode (default 1000)" };
        var layout = new Option<string>("--thread-layout")
        {
            Description = "Sharded mode: how the model uses the cores, fixed so reruns and workers write the same bytes under any load: "
                + "parts (a batch in parts side by side, one thread each), all (every call on all threads), adaptive (follows the load; last bits may differ)",
            DefaultValueFactory = _ => "parts",
        };
        layout.AcceptOnlyFromAmong("parts", "all", "adaptive");
        var command = new Command("embed", "Embed images and texts") { images, texts, pixels, textIds, output, noNormalize, tokens, layer, batch, shard, shardSize, layout };
        args.AddTo(command);
        backend.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            var request = new Request(r.GetValue(images) ?? [], r.GetValue(texts) ?? [], r.GetValue(pixels), r.GetValue(textIds), r.GetValue(output)!,
                !r.GetValue(noNormalize), r.GetValue(tokens), r.GetValue(layer), r.GetValue(batch));
            if (request.Images.Length == 0 && request.Texts.Length == 0 && request.Pixels is null && request.TextIds is null)
                throw new ArgumentException("nothing to embed: give --images, --texts, --pixels or --text-ids");
            if (request.BatchSize < 1) throw new ArgumentException("--batch-size must be at least 1");
            // What the arguments alone show to be wrong is refused before the model loads, not after the whole run.
            List<string> files = request.Images.Length > 0 ? ExpandImages(request.Images) : [];
            if (r.GetValue(shard) is not null || r.GetValue(shardSize) is not null)
            {
                if (request.Images.Length == 0 || request.Texts.Length > 0 || request.Pixels is not null || request.TextIds is not null || request.Tokens || request.Layer is not null)
                    throw new ArgumentException("sharded mode embeds --images only (no texts, pixels, tokens or layers)");
                var worker = r.GetValue(shard) is { } text ? ShardSpec.Parse(text) : ShardSpec.FromEnvironment() ?? ShardSpec.All;
                using var shardEncoder = args.LoadEncoder(r);
                using var shardSignals = new CliSignals();
                var options = new ShardedEmbeddingOptions
                {
                    ShardSize = r.GetValue(shardSize) ?? 1000, BatchSize = request.BatchSize, Normalize = request.Normalize,
                    ThreadLayout = r.GetValue(layout) switch { "all" => ThreadLayout.AllThreads, "adaptive" => null, _ => ThreadLayout.BatchParts },
                };
                return RunSharded(shardEncoder, request, files, worker, options, shardSignals.Token);
            }
            if (r.GetResult(layout) is { Implicit: false })
                throw new ArgumentException("--thread-layout applies to sharded mode (--shard or --shard-size); other embedding adapts to the load");
            CheckOutput(request);
            using var encoder = backend.Load(r, args);
            using var signals = new CliSignals();
            return Run(encoder, request, files, signals.Token);
        }));
        return command;
    }

    /// <summary>The image files in <paramref name="paths"/>; none at all is an error naming the paths.</summary>
    internal static List<string> ExpandImages(string[] paths)
    {
        var files = ImageFiles.Expand(paths);
        if (files.Count == 0)
            throw new ArgumentException($"no images found in {string.Join(", ", paths)} (folders are searched for {string.Join(", ", ImageFiles.Extensions.Order(StringComparer.Ordinal))})");
        return files;
    }

    /// <summary>Refuses an output that cannot be written, or a .npy for a request that makes several arrays.</summary>
    private static void CheckOutput(Request request)
    {
        ArrayStreamWriter.Check(request.Output);
        if (!Path.GetExtension(request.Output).Equals(".npy", StringComparison.OrdinalIgnoreCase)) return;
        bool images = request.Images.Length > 0 || request.Pixels is not null;
        var arrays = new List<string>();
        if (images) arrays.Add("image_features");
        if (images && request.Tokens) arrays.Add("image_tokens");
        if (images && request.Layer is not null) arrays.Add("image_hidden");
        if (request.Texts.Length > 0 || request.TextIds is not null) arrays.Add("text_features");
        if (arrays.Count > 1)
            throw new ArgumentException($"{request.Output}: a .npy file holds one array and this request makes {arrays.Count} ({string.Join(", ", arrays)}); use .safetensors to save them together");
    }

    private static int Run(OpenVisionEncoder encoder, Request request, List<string> files, CancellationToken cancellationToken)
    {
        if ((request.Texts.Length > 0 || request.TextIds is not null) && encoder.Config.IsVisionOnly)
            throw Configs.ModelConfig.VisionOnlyError(encoder.Config.Name);   // before any output is written
        int? layer = request.Layer is { } l ? encoder.ResolveLayer(l) : null;
        // Read and checked before any image is embedded, so bad ids cost no work and no output.
        using var textIds = request.TextIds is null ? null : ReadTokenIds(request.TextIds, encoder.Config);
        using var writer = new ArrayStreamWriter(request.Output);
        var summary = new List<string>();
        long pixelRows = 0;

        if (request.Pixels is not null)
        {
            using var all = NpyFile.Read(request.Pixels).ToTorch();
            if (all.ndim != 4 || all.shape[1] != 3) throw new ArgumentException($"{request.Pixels}: expected [N, 3, S, S] pixels, got [{string.Join(", ", all.shape)}]");
            for (long start = 0; start < all.shape[0]; start += request.BatchSize)
            {
                using var slice = all.narrow(0, start, Math.Min(request.BatchSize, all.shape[0] - start));
                WriteImageBatch(encoder, writer, slice, request, layer);
            }
            summary.Add($"{all.shape[0]} images from {request.Pixels}");
            pixelRows = all.shape[0];
        }
        List<string>? embedded = null;
        if (request.Images.Length > 0)
        {
            var meter = new ProgressMeter(files.Count);
            var progress = new ConsoleProgress("images");
            // The pixel rows come first in the output; the list names every row, so they are named too.
            embedded = [.. Enumerable.Range(0, (int)pixelRows).Select(i => $"{request.Pixels}[{i}]")];
            var skipped = new List<SkippedItem>();
            try
            {
                foreach (var batch in new ImageBatchReader(encoder.Transform, request.BatchSize).Read(files, cancellationToken))
                {
                    using (batch)
                    {
                        if (batch.Paths.Count > 0) WriteImageBatch(encoder, writer, batch.Pixels, request, layer);
                        embedded.AddRange(batch.Paths);
                        skipped.AddRange(batch.Skipped);
                        var done = meter.Add(batch.Paths.Count, batch.Skipped.Count);
                        if (embedded.Count > pixelRows) progress.Report(done);   // a folder of only bad files ends in one error line, no progress
                    }
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
            catch (OperationCanceledException)
            {
                // The writer's temporary parts are removed when it is disposed; the output only ever appears whole.
                progress.Finish();
                return CliErrors.Fail($"interrupted after embedding {embedded.Count - pixelRows} of {files.Count} images; nothing was written to {request.Output} "
                    + "(rerun to start again, or embed with --shard-size to make a job that resumes)", CliErrors.Interrupted);
            }
            progress.Finish();
            if (embedded.Count == pixelRows && skipped.Count > 0)
                throw new InvalidDataException($"none of the {skipped.Count} images could be read (first: {skipped[0].Reason})");
            foreach (var s in skipped) Console.Error.WriteLine($"skipped {TerminalText.Escape(s.Reason)}");
            summary.Add($"{embedded.Count - pixelRows} images ({skipped.Count} skipped; order in {request.Output}.images.txt) at {meter.Current.ItemsPerSecond:F1} images/s");
        }
        if (textIds is not null)
        {
            using var features = encoder.EncodeTokenIds(textIds, request.Normalize);
            writer.Append("text_features", features);
            summary.Add($"{textIds.shape[0]} texts from {request.TextIds}");
        }
        if (request.Texts.Length > 0)
        {
            using var features = encoder.EncodeTexts(request.Texts, request.Normalize);
            writer.Append("text_features", features);
            summary.Add($"{request.Texts.Length} texts");
        }
        var metadata = new Dictionary<string, string> { ["model"] = encoder.Source.Reference, ["normalized"] = request.Normalize.ToString() };
        string list = request.Output + ".images.txt";
        if (embedded is null)
        {
            writer.Finish(metadata);
            // A list from an earlier run would name rows this output does not have.
            File.Delete(list);
        }
        else
        {
            // The list is written (a full disk shows here) before the output replaces the old one, and is renamed into
            // place only once it has: a failure anywhere leaves the old output and the old list as they were.
            AtomicFile.Commit(list, temp =>
            {
                File.WriteAllLines(temp, embedded);
                writer.Finish(metadata);
            });
        }
        Console.WriteLine($"wrote {request.Output}: {string.Join("; ", summary)}");
        return 0;
    }

    // The library's checks (shape, dtype, ids inside the vocabulary), with the file named.
    private static Tensor ReadTokenIds(string path, Configs.ModelConfig config)
    {
        var ids = NpyFile.Read(path).ToTorch();
        try
        {
            TokenIdChecks.RequireTextIds(ids, config.TextCfg.ContextLength, config.TextCfg.VocabSize);
            return ids;
        }
        catch (ArgumentException e)
        {
            ids.Dispose();
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
    }

    private static int RunSharded(OpenVisionEncoder encoder, Request request, List<string> files, ShardSpec worker, ShardedEmbeddingOptions options, CancellationToken cancellationToken)
    {
        ShardedEmbeddingResult result;
        try
        {
            result = ShardedEmbedding.Run(encoder, files, worker, request.Output, options,
                new Progress<int>(k => Console.Error.WriteLine($"shard {k} done")), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            int complete = new ShardStore(request.Output).Check().Complete.Count;
            return CliErrors.Fail($"interrupted: {complete} shards are complete in {request.Output}; the unfinished one was discarded; "
                + "rerun the same command to embed the rest (complete shards are skipped)", CliErrors.Interrupted);
        }
        foreach (var s in result.Skipped) Console.Error.WriteLine($"skipped {TerminalText.Escape($"{s.Path}: {s.Reason}")}");
        Console.WriteLine($"worker {worker}: embedded {result.ShardsEmbedded} shards ({result.Rows} images), {result.ShardsAlreadyDone} already done, in {request.Output}");
        return 0;
    }

    private static void WriteImageBatch(OpenVisionEncoder encoder, ArrayStreamWriter writer, Tensor pixels, Request request, int? layer)
    {
        if (!request.Tokens && layer is null)
        {
            using var features = encoder.EncodePixels(pixels, request.Normalize);
            writer.Append("image_features", features);
            return;
        }
        using var encoding = encoder.EncodeImageDetailed(pixels, layer is { } l ? [l] : null, request.Normalize);
        writer.Append("image_features", encoding.Features);
        if (request.Tokens) writer.Append("image_tokens", encoding.Tokens);
        if (layer is { } index) writer.Append("image_hidden", encoding.Hidden[index]);
    }
}
