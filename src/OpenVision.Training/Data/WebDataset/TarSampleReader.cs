using System.Formats.Tar;

namespace OpenVision.Training.Data.WebDataset;

/// <summary>Reads a tar stream (POSIX ustar, pax or GNU, as written by GNU tar, Python's tarfile or
/// <see cref="WebDatasetWriter"/>) into WebDataset samples: consecutive files with the same key form one sample.</summary>
/// <remarks>Follows webdataset's <c>tar_file_expander</c> and <c>group_by_keys</c>: the key is the path up to the first
/// dot of the base name (<c>a/b/x.seg.png</c> → key <c>a/b/x</c>, extension <c>seg.png</c>, lower-cased); names without
/// a dot, directories, links and <c>__…__</c> meta files are ignored; a repeated extension starts a new sample. A
/// leading "./" is dropped so that <c>tar -C dir .</c> and <c>tar *</c> give the same keys. A shard that breaks
/// (truncated data, corrupt header) ends there: the samples read before the break are returned and the break is
/// recorded as <see cref="SkipReason.TruncatedShard"/>; the sample being assembled keeps only its complete files.</remarks>
public static class TarSampleReader
{
    /// <summary>Files larger than this are taken as a corrupt size field rather than allocated.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Samples of the tar in <paramref name="stream"/>; <paramref name="shard"/> names it in samples and skips.</summary>
    public static IEnumerable<WebDatasetSample> Read(Stream stream, string shard, SkipLog skips)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(skips);
        string? key = null;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, data) in Files(stream, shard, skips))
        {
            if (!SplitName(name, out string fileKey, out string extension)) continue;
            if (key is not null && (fileKey != key || files.ContainsKey(extension)))
            {
                yield return new WebDatasetSample(key, shard, files);
                files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            }
            key = fileKey;
            files[extension] = data;
        }
        if (key is not null && files.Count > 0) yield return new WebDatasetSample(key, shard, files);
    }

    /// <summary>Splits a member name into key and extension as webdataset's <c>base_plus_ext</c>; false for names it ignores.</summary>
    public static bool SplitName(string name, out string key, out string extension)
    {
        ArgumentNullException.ThrowIfNull(name);
        key = extension = "";
        if (name.StartsWith("./", StringComparison.Ordinal)) name = name[2..];
        int slash = name.LastIndexOf('/');
        string baseName = name[(slash + 1)..];
        if (baseName.StartsWith("__", StringComparison.Ordinal) && baseName.EndsWith("__", StringComparison.Ordinal)) return false;
        int dot = baseName.IndexOf('.');
        if (dot <= 0 || dot == baseName.Length - 1) return false;
        key = name[..(slash + 1 + dot)];
        extension = baseName[(dot + 1)..].ToLowerInvariant();
        return true;
    }

    // Regular files in archive order, each read completely; stops at the end or at the first break.
    private static IEnumerable<(string Name, byte[] Data)> Files(Stream stream, string shard, SkipLog skips)
    {
        using var reader = new TarReader(stream, leaveOpen: true);
        int read = 0;
        while (true)
        {
            TarEntry? entry;
            string? problem = null;
            byte[]? data = null;
            try
            {
                entry = reader.GetNextEntry(copyData: false);
                if (entry is null) yield break;
                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)
                    problem = ReadData(entry, out data);
            }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException or IOException or ArgumentException)
            {
                entry = null;
                problem = $"corrupt tar header after {read} files ({e.GetType().Name}: {e.Message})";
            }
            if (problem is not null)
            {
                skips.Add(shard, "", SkipReason.TruncatedShard, problem);
                yield break;
            }
            if (data is null) continue;
            read++;
            yield return (entry!.Name, data);
        }
    }

    // Reads an entry's data; returns a problem description when the archive ends early.
    private static string? ReadData(TarEntry entry, out byte[]? data)
    {
        data = null;
        if (entry.Length < 0 || entry.Length > MaxFileBytes) return $"{entry.Name}: implausible size {entry.Length}";
        var buffer = new byte[entry.Length];
        int filled = 0;
        if (entry.DataStream is { } source)
        {
            for (int n; filled < buffer.Length && (n = source.Read(buffer, filled, buffer.Length - filled)) > 0;) filled += n;
        }
        if (filled < buffer.Length) return $"{entry.Name}: truncated, {filled} of {buffer.Length} bytes present";
        data = buffer;
        return null;
    }
}
