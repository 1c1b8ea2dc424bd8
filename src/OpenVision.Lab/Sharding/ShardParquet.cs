using OpenVision.Checkpoints;
using OpenVision.Pipelines;
using Parquet.Serialization;
using TorchSharp;

namespace OpenVision.Lab.Sharding;

/// <summary>A shard's keys and embeddings as one Parquet table (columns <c>key</c> string, <c>embedding</c>
/// list of float32), so a folder of shards is a dataset that DuckDB, Spark or pandas read directly.</summary>
public static class ShardParquet
{
    /// <summary>One row of the table.</summary>
    public sealed class Row
    {
        /// <summary>The input (file path) the embedding belongs to.</summary>
        public string Key { get; set; } = "";

        /// <summary>Its image features.</summary>
        public float[] Embedding { get; set; } = [];
    }

    /// <summary>Writes <paramref name="keys"/> with the rows of <c>image_features</c> from the shard's safetensors
    /// file, through a temporary file and a rename.</summary>
    public static void Write(string path, IReadOnlyList<string> keys, string embeddingsPath)
    {
        // Parquet gets float32 whatever precision the model ran in.
        using var stored = SafetensorsFile.Read(embeddingsPath)["image_features"].ToTorch();
        using var features = stored.to(torch.ScalarType.Float32);
        if (features.shape[0] != keys.Count) throw new InvalidDataException($"{embeddingsPath}: {features.shape[0]} rows for {keys.Count} keys");
        var values = features.data<float>().ToArray().AsSpan();
        int width = keys.Count == 0 ? 0 : values.Length / keys.Count;
        var rows = new List<Row>(keys.Count);
        for (int i = 0; i < keys.Count; i++) rows.Add(new Row { Key = keys[i], Embedding = values.Slice(i * width, width).ToArray() });
        string temp = path + ".tmp";
        using (var stream = File.Create(temp)) ParquetSerializer.SerializeAsync(rows, stream).GetAwaiter().GetResult();
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a table written by <see cref="Write"/>.</summary>
    public static IReadOnlyList<Row> Read(string path)
    {
        using var stream = File.OpenRead(path);
        return [.. ParquetSerializer.DeserializeAsync<Row>(stream).GetAwaiter().GetResult().Data];
    }
}
