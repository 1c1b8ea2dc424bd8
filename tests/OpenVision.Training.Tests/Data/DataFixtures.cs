using System.Text;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Training.Tests.Data;

/// <summary>A temporary folder deleted at the end of the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => System.IO.Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ov-data-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

internal static class DataFixtures
{
    /// <summary>A small grey PNG whose pixels encode the sample index, so tests can tell images apart.</summary>
    public static byte[] Png(int index, int width = 8, int height = 6)
    {
        var pixels = new byte[width * height];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(index * 7 + i * 3);
        return PngEncoder.Encode(pixels, width, height, 1);
    }

    public static Dictionary<string, byte[]> Sample(int index, bool caption = true, int? label = null)
    {
        var files = new Dictionary<string, byte[]>
        {
            ["png"] = Png(index),
            ["txt"] = Encoding.UTF8.GetBytes($"alt text {index}"),
        };
        if (caption) files["json"] = Encoding.UTF8.GetBytes($"{{\"recaption\": \"Sentence one of {index}. Sentence two! Sentence three.\"}}");
        if (label is { } l) files["cls"] = Encoding.ASCII.GetBytes(l.ToString());
        return files;
    }

    /// <summary>Writes <paramref name="count"/> samples "s0000000".. into shards of <paramref name="perShard"/>; returns the pattern.</summary>
    public static string WriteShards(string directory, int count, int perShard, bool caption = true)
    {
        using var writer = new WebDatasetWriter(directory, "shard", perShard);
        for (int i = 0; i < count; i++) writer.Write($"s{i:D7}", Sample(i, caption, label: i % 10));
        writer.Flush();
        return writer.ShardPattern;
    }

    public static List<string> Keys(IImageTextSource source, int epoch = 0, long skip = 0) =>
        source.ReadEpoch(epoch, skip).Select(s => s.Key).ToList();
}
