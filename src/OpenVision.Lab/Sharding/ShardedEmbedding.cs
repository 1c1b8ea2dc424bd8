using OpenVision.Checkpoints;
using OpenVision.Backends;
using OpenVision.IO;
using OpenVision.Models;
using OpenVision.Pipelines;
using TorchSharp;

namespace OpenVision.Lab.Sharding;

/// <summary>Settings of a sharded embedding job.</summary>
public sealed record ShardedEmbeddingOptions
{
    /// <summary>Input files per shard (one output file per shard; a crash loses at most one shard's work).</summary>
    public int ShardSize { get; init; } = 1000;

    /// <summary>Images per model call.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>L2-normalize the image features.</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>How a TorchSharp model uses the cores during the job (<see cref="ContentionAwareThreads.Pinned"/>), fixed
    /// so that every worker and every rerun writes the same bytes whatever else runs on the machine: the adaptive choice
    /// follows the load, and its layouts agree only within float32 round-off. The default, a batch in parts side by side
    /// (a lone image on one thread), measured as fast as all threads on a quiet machine and several times faster beside
    /// busy processes (docs/distributed.md). Null adapts to the load, as other calls do.</summary>
    public ThreadLayout? ThreadLayout { get; init; } = Models.ThreadLayout.BatchParts;
}

/// <summary>What one worker did.</summary>
/// <param name="ShardsEmbedded">Shards this worker embedded now.</param>
/// <param name="ShardsAlreadyDone">Shards of this worker that a previous run had finished (skipped).</param>
/// <param name="Rows">Embeddings written now.</param>
/// <param name="Skipped">Inputs skipped now (unreadable), with reasons.</param>
public sealed record ShardedEmbeddingResult(int ShardsEmbedded, int ShardsAlreadyDone, long Rows, IReadOnlyList<SkippedItem> Skipped);

/// <summary>Embeds a large list of images across independent workers (a Slurm or Kubernetes job array, or separate
/// machines): the sorted input is cut into fixed shards, worker I of N embeds shards k ≡ I (mod N) into one output
/// each, and <see cref="Merge"/> joins them once all are done. Reruns skip finished shards, so restarting a killed
/// worker finishes the job with nothing lost or duplicated.</summary>
public static class ShardedEmbedding
{
    /// <summary>Cuts <paramref name="inputs"/> into consecutive shards of <paramref name="shardSize"/>.</summary>
    public static List<string[]> Split(IReadOnlyList<string> inputs, int shardSize)
    {
        if (shardSize < 1) throw new ArgumentOutOfRangeException(nameof(shardSize), "shard size must be at least 1");
        return [.. inputs.Chunk(shardSize)];
    }

    /// <summary>Embeds this worker's unfinished shards of <paramref name="files"/> into <paramref name="outputFolder"/>.</summary>
    /// <param name="encoder">The model and its preprocessing.</param>
    /// <param name="files">All inputs of the job, in the same order on every worker (e.g. <see cref="ImageFiles.Expand"/>).</param>
    /// <param name="worker">This worker's share.</param>
    /// <param name="outputFolder">Shared by every worker of the job.</param>
    /// <param name="options">Shard size, batch size, normalization.</param>
    /// <param name="progress">Receives the index of each shard this worker finishes.</param>
    /// <param name="cancellationToken">Stops between batches; the current shard is then left unfinished.</param>
    public static ShardedEmbeddingResult Run(OpenVisionEncoder encoder, IReadOnlyList<string> files, ShardSpec worker, string outputFolder,
        ShardedEmbeddingOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        using var layout = (encoder.Backend as TorchSharpBackend)?.Model.Threads.PinFor(options.ThreadLayout);
        return RunShards(encoder, files, worker, outputFolder, options, progress, cancellationToken);
    }

    private static ShardedEmbeddingResult RunShards(OpenVisionEncoder encoder, IReadOnlyList<string> files, ShardSpec worker, string outputFolder,
        ShardedEmbeddingOptions options, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var shards = Split(files, options.ShardSize);
        var store = new ShardStore(outputFolder);
        store.Agree(new ShardPlan(shards.Count, options.ShardSize, files.Count, ShardStore.HashInputs(files), encoder.Source.Reference));
        int embedded = 0, alreadyDone = 0;
        long rows = 0;
        var skippedNow = new List<SkippedItem>();
        for (int k = 0; k < shards.Count; k++)
        {
            if (!worker.Owns(k)) continue;
            // A done-marker whose files no longer match (disk error, partial copy) is redone, not trusted.
            if (store.IsDone(k) && store.Verify(k) is null) { alreadyDone++; continue; }
            var (keys, skipped) = EmbedShard(encoder, shards[k], store.PathOf(k, ".safetensors"), options, cancellationToken);
            ShardParquet.Write(store.PathOf(k, ".parquet"), keys, store.PathOf(k, ".safetensors"));
            store.Complete(k, keys, skipped);
            embedded++;
            rows += keys.Count;
            skippedNow.AddRange(skipped);
            progress?.Report(k);
        }
        return new ShardedEmbeddingResult(embedded, alreadyDone, rows, skippedNow);
    }

    private static (List<string> Keys, List<SkippedItem> Skipped) EmbedShard(OpenVisionEncoder encoder, string[] files, string output,
        ShardedEmbeddingOptions options, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var skipped = new List<SkippedItem>();
        using var writer = new ArrayStreamWriter(output);
        foreach (var batch in new ImageBatchReader(encoder.Transform, options.BatchSize).Read(files, cancellationToken))
        {
            using (batch)
            {
                if (batch.Paths.Count > 0)
                {
                    using var features = encoder.EncodePixels(batch.Pixels, options.Normalize);   // [b, E]
                    writer.Append("image_features", features);
                }
                keys.AddRange(batch.Paths);
                skipped.AddRange(batch.Skipped);
            }
        }
        if (keys.Count == 0)
        {
            // Every input unreadable: still one (empty) output, so the shard counts as done.
            using var none = torch.zeros(0, encoder.Config.EmbedDim);
            writer.Append("image_features", none);
        }
        writer.Finish(new Dictionary<string, string> { ["model"] = encoder.Source.Reference, ["normalized"] = options.Normalize.ToString() });
        return (keys, skipped);
    }

    /// <summary>Checks every shard and, when all are complete, writes their embeddings in shard order to
    /// <paramref name="output"/> (.safetensors or .npy) and their keys to <c>output.keys.txt</c>.</summary>
    /// <returns>The check; nothing is written unless <see cref="ShardReport.IsComplete"/>.</returns>
    public static ShardReport Merge(string folder, string output)
    {
        var store = new ShardStore(folder);
        var report = store.Check();
        if (!report.IsComplete) return report;
        using (var writer = new ArrayStreamWriter(output))
        {
            for (int k = 0; k < report.Plan.Shards; k++)
            {
                using var features = SafetensorsFile.Read(store.PathOf(k, ".safetensors"))["image_features"].ToTorch();
                writer.Append("image_features", features);
            }
            writer.Finish(new Dictionary<string, string> { ["model"] = report.Plan.Model, ["shards"] = report.Plan.Shards.ToString() });
        }
        string keysTemp = output + ".keys.txt.tmp";
        using (var keys = new StreamWriter(keysTemp))
            for (int k = 0; k < report.Plan.Shards; k++) keys.Write(File.ReadAllText(store.PathOf(k, ".keys.txt")));
        File.Move(keysTemp, output + ".keys.txt", overwrite: true);
        return report;
    }
}
