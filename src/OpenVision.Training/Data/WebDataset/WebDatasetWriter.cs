using System.Formats.Tar;
using System.Globalization;

namespace OpenVision.Training.Data.WebDataset;

/// <summary>Writes samples into WebDataset tar shards of a fixed number of samples each: <c>{prefix}-000000.tar</c>,
/// <c>{prefix}-000001.tar</c>, …. Each shard is written to a temporary file and renamed when complete, so a reader
/// never sees half a shard and an interrupted conversion leaves no truncated shard behind.</summary>
/// <remarks>Entries are GNU-format regular files (long names handled) with a fixed time stamp, owner 0 and mode
/// 0644, so the same samples always give byte-identical shards. Files of a sample are written in ordinal order of
/// their extensions. Not thread-safe.</remarks>
public sealed class WebDatasetWriter : IDisposable
{
    private static readonly DateTimeOffset FixedTime = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly List<string> _shards = [];
    private FileStream? _file;
    private TarWriter? _tar;
    private string? _tempPath, _finalPath;
    private int _inShard;

    /// <summary>Creates the writer; <paramref name="directory"/> is created if needed.</summary>
    /// <param name="directory">Where shards go.</param>
    /// <param name="prefix">Shard file names start with this (e.g. "train").</param>
    /// <param name="samplesPerShard">Samples per shard; the last one may hold fewer.</param>
    public WebDatasetWriter(string directory, string prefix, int samplesPerShard)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerShard, 1);
        Directory.CreateDirectory(directory);
        (OutputDirectory, Prefix, SamplesPerShard) = (directory, prefix, samplesPerShard);
    }

    /// <summary>The output folder.</summary>
    public string OutputDirectory { get; }

    /// <summary>The shard name prefix.</summary>
    public string Prefix { get; }

    /// <summary>Samples per shard.</summary>
    public int SamplesPerShard { get; }

    /// <summary>Samples written so far.</summary>
    public long SampleCount { get; private set; }

    /// <summary>Completed shards (renamed to their final names), in order.</summary>
    public IReadOnlyList<string> Shards => _shards;

    /// <summary>The brace pattern naming every completed shard, e.g. "/data/train-{000000..000011}.tar".</summary>
    public string ShardPattern => _shards.Count switch
    {
        0 => throw new InvalidOperationException("no shard has been completed"),
        1 => _shards[0],
        _ => Path.Combine(OutputDirectory, $"{Prefix}-{{{0:D6}..{_shards.Count - 1:D6}}}.tar"),
    };

    /// <summary>Adds one sample: its key and its files by extension (without the dot, e.g. "png", "txt", "json").</summary>
    public void Write(string key, IReadOnlyDictionary<string, byte[]> files)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new ArgumentException("a sample needs at least one file", nameof(files));
        // A dot in the base name would move the key/extension split on reading.
        string baseName = key[(key.LastIndexOf('/') + 1)..];
        if (baseName.Length == 0 || baseName.Contains('.')) throw new ArgumentException($"key '{key}' must not end in '/' or have a dot in its base name", nameof(key));
        _tar ??= OpenShard();
        foreach (var (extension, data) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (extension.Length == 0 || extension.Contains('/')) throw new ArgumentException($"bad extension '{extension}'", nameof(files));
            var entry = new GnuTarEntry(TarEntryType.RegularFile, $"{key}.{extension}")
            {
                ModificationTime = FixedTime,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                DataStream = new MemoryStream(data, writable: false),
            };
            _tar.WriteEntry(entry);
        }
        SampleCount++;
        if (++_inShard == SamplesPerShard) CompleteShard();
    }

    /// <summary>Completes the last, partial shard. Further writes start a new shard.</summary>
    public void Flush()
    {
        if (_tar is not null) CompleteShard();
    }

    /// <summary>Completes the last shard (as <see cref="Flush"/>).</summary>
    public void Dispose() => Flush();

    /// <summary>Deletes the temporary file of an unfinished shard without completing it (e.g. after an error).</summary>
    public void Abandon()
    {
        _tar?.Dispose();
        _file?.Dispose();
        if (_tempPath is not null && File.Exists(_tempPath)) File.Delete(_tempPath);
        (_tar, _file, _tempPath, _inShard) = (null, null, null, 0);
    }

    private TarWriter OpenShard()
    {
        _finalPath = Path.Combine(OutputDirectory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}-{_shards.Count:D6}.tar"));
        _tempPath = _finalPath + ".tmp";
        _file = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        return new TarWriter(_file, TarEntryFormat.Gnu, leaveOpen: true);
    }

    private void CompleteShard()
    {
        _tar!.Dispose(); // writes the two zero blocks that end the archive
        _file!.Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(_tempPath!, _finalPath!, overwrite: true);
        _shards.Add(_finalPath!);
        (_tar, _file, _tempPath, _inShard) = (null, null, null, 0);
    }
}
