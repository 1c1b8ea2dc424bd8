using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using OpenVision.Pipelines;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Search;

/// <summary>Embeds images into an index folder, creating it or continuing it: inputs whose key the index already
/// holds are not embedded again, so the same call resumes an interrupted build and adds new files to a finished one.
/// Rows are committed a batch at a time (see the folder's commit protocol), so a kill loses at most one batch of
/// work and never leaves a damaged index.</summary>
public static class ImageIndexBuilder
{
    /// <summary>The fingerprint an index built or queried with <paramref name="encoder"/> records.</summary>
    public static ModelFingerprint Fingerprint(OpenVisionEncoder encoder, string modelName)
    {
        using var scope = torch.NewDisposeScope();
        int size = encoder.ImageSize;
        var pixels = torch.tensor(ModelFingerprint.ProbeImage(size), [1, 3, size, size]).to(encoder.Backend.PixelDType);
        var features = encoder.EncodePixels(pixels, normalize: true).to(ScalarType.Float32);
        return new ModelFingerprint
        {
            Name = modelName,
            ConfigSha256 = ModelFingerprint.HashConfig(encoder.Config),
            ImageSize = size,
            DType = $"{encoder.Backend.GetType().Name} {encoder.Backend.PixelDType}".ToLowerInvariant(),
            Probe = features.data<float>().ToArray(),
        };
    }

    /// <summary>Embeds <paramref name="inputs"/> not yet in the index at <paramref name="folder"/> (created when
    /// missing) and brings its HNSW graph up to date. Throws <see cref="IndexModelMismatchException"/> when the
    /// folder holds another model's index, and <see cref="OperationCanceledException"/> after committing the
    /// finished batches when cancelled.</summary>
    public static IndexBuildReport Build(OpenVisionEncoder encoder, string modelName, IEnumerable<IndexInput> inputs, string folder,
        IndexBuildOptions? options = null, IProgress<ProgressReport>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new IndexBuildOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        var fingerprint = Fingerprint(encoder, modelName);
        var manifest = OpenOrCreate(folder, fingerprint);

        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in IndexFolder.ReadJsonLines<IndexItem>(IndexFolder.PathOf(folder, IndexFolder.ItemsFile), manifest.ItemsBytes)) known.Add(item.Key);
        foreach (var skip in IndexFolder.ReadJsonLines<SkippedInput>(IndexFolder.PathOf(folder, IndexFolder.SkippedFile), manifest.SkippedBytes)) known.Add(skip.Key);
        long already = 0;
        // Filled by the reader's decoding thread as it takes inputs, read here as their batches arrive.
        var captions = new System.Collections.Concurrent.ConcurrentDictionary<string, string?>(StringComparer.Ordinal);
        var todo = inputs.Where(input =>
        {
            if (!known.Add(input.Key)) { already++; return false; }
            captions[input.Key] = input.Caption;
            return true;
        });
        long? total = inputs is ICollection<IndexInput> list ? list.Count(i => !known.Contains(i.Key)) : null;

        var meter = new ProgressMeter(total);
        var skippedNow = new List<SkippedInput>();
        long added = 0;
        using (var writer = new IndexAppender(folder, manifest))
        {
            var reader = new ImageBatchReader(encoder.Transform, options.BatchSize);
            foreach (var batch in reader.Read(todo, input => input.Key, input => input.Decode(), cancellationToken))
            {
                using (batch)
                {
                    var skipped = batch.Skipped.Select(s => new SkippedInput(s.Path, s.Reason)).ToList();
                    if (batch.Paths.Count > 0)
                    {
                        using var scope = torch.NewDisposeScope();
                        var features = encoder.EncodePixels(batch.Pixels.to(encoder.Backend.PixelDType), normalize: true).to(ScalarType.Float32).contiguous();
                        writer.Append(features.data<float>().ToArray(), batch.Paths.Select(k => new IndexItem(k, captions[k])).ToList(), skipped);
                    }
                    else writer.Append([], [], skipped);
                    manifest = writer.Commit();
                    added += batch.Paths.Count;
                    skippedNow.AddRange(skipped);
                    progress?.Report(meter.Add(batch.Paths.Count, skipped.Count));
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        manifest = HnswMaintenance.Update(folder, manifest, options);
        return new IndexBuildReport(added, already, skippedNow, manifest.Count, meter.Current.ItemsPerSecond, manifest.HnswCount);
    }

    private static IndexManifest OpenOrCreate(string folder, ModelFingerprint fingerprint)
    {
        if (IndexFolder.Exists(folder))
        {
            var existing = IndexFolder.ReadManifest(folder);
            if (existing.Model.Mismatch(fingerprint) is { } why) throw new IndexModelMismatchException(folder, why);
            IndexFolder.Truncate(folder, existing);
            return existing;
        }
        if (File.Exists(folder)) throw new IOException($"{folder}: is a file, not an index folder");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new IOException($"{folder}: folder exists, is not empty and holds no index (manifest.json); choose a new folder");
        Directory.CreateDirectory(folder);
        var manifest = new IndexManifest { Model = fingerprint, Dimensions = fingerprint.Probe.Length };
        IndexFolder.Truncate(folder, manifest);
        IndexFolder.WriteManifest(folder, manifest);
        return manifest;
    }

    /// <summary>Appends rows to the data files and commits them by rewriting the manifest.</summary>
    private sealed class IndexAppender(string folder, IndexManifest manifest) : IDisposable
    {
        private readonly FileStream vectors = OpenForAppend(folder, IndexFolder.VectorsFile);
        private readonly FileStream items = OpenForAppend(folder, IndexFolder.ItemsFile);
        private readonly FileStream skipped = OpenForAppend(folder, IndexFolder.SkippedFile);
        private long rows = manifest.Count;

        private static FileStream OpenForAppend(string folder, string file) => new(IndexFolder.PathOf(folder, file), FileMode.Append, FileAccess.Write, FileShare.Read);

        public void Append(float[] features, IReadOnlyList<IndexItem> newItems, IReadOnlyList<SkippedInput> newSkipped)
        {
            vectors.Write(MemoryMarshal.AsBytes(features.AsSpan()));
            foreach (var item in newItems) WriteLine(items, item);
            foreach (var skip in newSkipped) WriteLine(skipped, skip);
            rows += newItems.Count;
        }

        private static void WriteLine<T>(FileStream stream, T value) =>
            stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, IndexManifest.JsonLine) + "\n"));

        public IndexManifest Commit()
        {
            vectors.Flush(); items.Flush(); skipped.Flush();
            manifest = manifest with { Count = rows, ItemsBytes = items.Length, SkippedBytes = skipped.Length };
            IndexFolder.WriteManifest(folder, manifest);
            return manifest;
        }

        public void Dispose() { vectors.Dispose(); items.Dispose(); skipped.Dispose(); }
    }
}
