using System.Text;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>The shard side of the WebDataset evaluation sources, on the training data module's reader
/// (<see cref="ShardList"/>, <see cref="ShardOpener"/>, <see cref="TarSampleReader"/>): a brace pattern expanded and
/// checked up front, shards read in the given order (evaluation never shuffles), and samples that cannot be used
/// turned into samples whose decoding fails with the reason, so the evaluators skip and count them exactly like
/// undecodable images.</summary>
internal sealed class EvaluationShards
{
    // Strict UTF-8, as the training reader: a text entry that is not UTF-8 is bad metadata. A BOM is dropped.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Expands <paramref name="pattern"/> (e.g. <c>dir/test-{000000..000003}.tar</c>, <c>::</c>-separated
    /// lists, http(s) URLs) and checks that every local shard exists: a missing shard is a wrong pattern, not bad data.</summary>
    public EvaluationShards(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        Pattern = pattern;
        Shards = ShardList.FromPatterns(pattern).Shards;
        foreach (string shard in Shards)
            if (!IsRemote(shard) && !File.Exists(LocalPath(shard)))
                throw new FileNotFoundException($"{shard}: no such shard (from the pattern '{pattern}')", shard);
    }

    /// <summary>The pattern as given.</summary>
    public string Pattern { get; }

    /// <summary>The shards, in reading order.</summary>
    public IReadOnlyList<string> Shards { get; }

    /// <summary>Identity for the feature cache (paths, sizes, times); null when a shard is remote and cannot be checked.</summary>
    public string? Fingerprint => Shards.Any(IsRemote) ? null : "wds:" + FileFingerprint.Of(Shards.Select(LocalPath));

    /// <summary>A data set name from the pattern: the shards' folder (<c>…/cifar10/test/0.tar</c> → "cifar10-test").</summary>
    public string DefaultName
    {
        get
        {
            string first = Shards[0];
            if (IsRemote(first)) first = new Uri(first).AbsolutePath;
            string? folder = Path.GetDirectoryName(LocalPath(first));
            string leaf = Path.GetFileName(folder ?? "");
            string parent = Path.GetFileName(Path.GetDirectoryName(folder ?? "") ?? "");
            if (leaf.Length == 0) return "webdataset";
            return leaf is "test" or "train" or "val" or "validation" && parent.Length > 0 ? $"{parent}-{leaf}" : leaf;
        }
    }

    /// <summary>True when <paramref name="data"/> names shards rather than a folder or a file of another kind: it has
    /// braces or <c>::</c>, is a URL, or ends in <c>.tar</c>.</summary>
    public static bool LooksLikeShards(string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Contains('{') || data.Contains("::", StringComparison.Ordinal) || IsRemote(data)
            || data.EndsWith(".tar", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A file that sits next to the shards or one folder up (CLIP_benchmark's layout keeps
    /// <c>classnames.txt</c> above <c>test/0.tar</c>); null when neither exists or the shards are remote.</summary>
    public string? FindBeside(string fileName)
    {
        if (IsRemote(Shards[0])) return null;
        string? folder = Path.GetDirectoryName(Path.GetFullPath(LocalPath(Shards[0])));
        for (int up = 0; up < 2 && folder is not null; up++, folder = Path.GetDirectoryName(folder))
        {
            string candidate = Path.Combine(folder, fileName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The samples of every shard in order, each turned into an item by <paramref name="toItem"/>; a shard
    /// that cannot be opened or breaks off becomes one item made by <paramref name="unusable"/> (key: the shard).</summary>
    public IEnumerable<T> Read<T>(Func<WebDatasetSample, T> toItem, Func<string, string, T> unusable, CancellationToken cancellationToken)
    {
        foreach (string shard in Shards)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Stream? stream = null;
            string? problem = null;
            try { stream = ShardOpener.Open(shard); }
            catch (IOException e) { problem = e.Message; }
            if (stream is null)
            {
                yield return unusable(shard, $"{SkipReason.UnreadableShard}: {problem}");
                continue;
            }
            var breaks = new SkipLog();
            using (stream)
            {
                foreach (var sample in TarSampleReader.Read(stream, shard, breaks))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return toItem(sample);
                }
            }
            foreach (var broken in breaks.Recent) yield return unusable(shard, $"{broken.Reason}: {broken.Detail}");
        }
    }

    /// <summary>An image sample whose decoding fails with <paramref name="reason"/>: how a source hands the
    /// evaluators a sample it cannot use, so that it is skipped and counted with its key.</summary>
    public static ImageSample Unusable(string key, string reason) => new(key, () => throw new InvalidDataException(reason));

    /// <summary>The key that names a sample in reports: its shard and its key inside the shard.</summary>
    public static string KeyOf(WebDatasetSample sample) => $"{sample.Shard}:{sample.Key}";

    /// <summary>The text of entry <paramref name="extension"/>, or null when the sample has none.</summary>
    /// <exception cref="DecoderFallbackException">The entry is not UTF-8.</exception>
    public static string? Text(WebDatasetSample sample, string extension) =>
        sample.Files.TryGetValue(extension, out var bytes) ? StrictUtf8.GetString(bytes).TrimStart('\uFEFF') : null;

    private static bool IsRemote(string shard) =>
        shard.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || shard.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    private static string LocalPath(string shard) =>
        shard.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(shard).LocalPath : shard;
}
