using System.Text;
using System.Text.Json;

namespace OpenVision.Search;

/// <summary>The files of an index folder and their commit protocol: rows are appended to vectors.f32 (float32,
/// row-major), items.jsonl and skipped.jsonl first, and only then counted in manifest.json, which is replaced
/// atomically. A run killed at any point leaves a valid index: opening it for writing cuts the files back to the
/// committed lengths.</summary>
internal static class IndexFolder
{
    public const string ManifestFile = "manifest.json";
    public const string VectorsFile = "vectors.f32";
    public const string ItemsFile = "items.jsonl";
    public const string SkippedFile = "skipped.jsonl";
    public const string HnswFile = "hnsw.usearch";

    public static string PathOf(string folder, string file) => System.IO.Path.Combine(folder, file);

    public static bool Exists(string folder) => File.Exists(PathOf(folder, ManifestFile));

    public static IndexManifest ReadManifest(string folder)
    {
        string path = PathOf(folder, ManifestFile);
        if (!File.Exists(path)) throw new IndexFormatException(folder, "not an index folder (no manifest.json)");
        IndexManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<IndexManifest>(File.ReadAllText(path), IndexManifest.Json); }
        catch (JsonException e) { throw new IndexFormatException(path, $"invalid JSON ({e.Message})"); }
        if (manifest is null || manifest.Format != IndexManifest.FormatName) throw new IndexFormatException(path, $"not an OpenVision index (format '{manifest?.Format}')");
        if (manifest.Version != 1) throw new IndexFormatException(path, $"index format version {manifest.Version} is newer than this program reads (1)");
        if (manifest.Dimensions < 1 || manifest.Count < 0 || manifest.ItemsBytes < 0 || manifest.SkippedBytes < 0 || manifest.HnswCount > manifest.Count)
            throw new IndexFormatException(path, "inconsistent counts");
        long vectorBytes = manifest.Count * manifest.Dimensions * sizeof(float);
        CheckLength(PathOf(folder, VectorsFile), vectorBytes);
        CheckLength(PathOf(folder, ItemsFile), manifest.ItemsBytes);
        CheckLength(PathOf(folder, SkippedFile), manifest.SkippedBytes);
        return manifest;
    }

    private static void CheckLength(string path, long committed)
    {
        long actual = File.Exists(path) ? new FileInfo(path).Length : 0;
        if (actual < committed) throw new IndexFormatException(path, $"holds {actual} bytes, the manifest commits {committed}: the file was truncated or replaced");
    }

    /// <summary>Cuts every data file back to what the manifest commits.</summary>
    public static void Truncate(string folder, IndexManifest manifest)
    {
        Cut(PathOf(folder, VectorsFile), manifest.Count * manifest.Dimensions * sizeof(float));
        Cut(PathOf(folder, ItemsFile), manifest.ItemsBytes);
        Cut(PathOf(folder, SkippedFile), manifest.SkippedBytes);
    }

    private static void Cut(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write);
        if (stream.Length != length) stream.SetLength(length);
    }

    public static void WriteManifest(string folder, IndexManifest manifest)
    {
        OpenVision.IO.AtomicFile.WriteAllText(PathOf(folder, ManifestFile), JsonSerializer.Serialize(manifest, IndexManifest.Json));
    }

    public static List<T> ReadJsonLines<T>(string path, long bytes)
    {
        var result = new List<T>();
        if (bytes == 0) return result;
        using var stream = File.OpenRead(path);
        using var reader = new StreamReader(new BoundedStream(stream, bytes), Encoding.UTF8);
        int line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            try { result.Add(JsonSerializer.Deserialize<T>(text, IndexManifest.Json) ?? throw new JsonException("null")); }
            catch (JsonException e) { throw new IndexFormatException(path, $"line {line}: {e.Message}"); }
        }
        return result;
    }

    /// <summary>Reads only the first <c>limit</c> bytes of a stream (the committed part of an append-only file).</summary>
    private sealed class BoundedStream(Stream inner, long limit) : Stream
    {
        private long left = limit;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (left <= 0) return 0;
            int n = inner.Read(buffer, offset, (int)Math.Min(count, left));
            left -= n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
