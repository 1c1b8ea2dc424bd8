using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpenVision.Pipelines;

namespace OpenVision.Lab.Sharding;

/// <summary>The plan every worker of a sharded job agrees on: how the input was cut into shards.</summary>
/// <param name="Shards">Number of input shards.</param>
/// <param name="ShardSize">Inputs per shard (the last may hold fewer).</param>
/// <param name="Inputs">Number of inputs.</param>
/// <param name="InputsSha256">Hash of the ordered input list: workers given different inputs refuse to share a folder.</param>
/// <param name="Model">The model reference.</param>
public sealed record ShardPlan(int Shards, int ShardSize, int Inputs, string InputsSha256, string Model);

/// <summary>Written last, atomically, when a shard's outputs are complete; a rerun skips shards that have one.</summary>
/// <param name="Rows">Embeddings written.</param>
/// <param name="Skipped">Inputs that could not be read, with the reason.</param>
/// <param name="EmbeddingsSha256">Hash of the shard's safetensors file.</param>
/// <param name="KeysSha256">Hash of the shard's key list.</param>
/// <param name="ParquetSha256">Hash of the shard's Parquet table (key, embedding).</param>
public sealed record ShardDone(long Rows, IReadOnlyList<SkippedItem> Skipped, string EmbeddingsSha256, string KeysSha256, string ParquetSha256);

/// <summary>What a folder of shard outputs holds: complete shards, missing ones, corrupt ones (outputs that do not
/// match their done-marker).</summary>
/// <param name="Plan">The job's plan.</param>
/// <param name="Complete">Shards whose outputs check out.</param>
/// <param name="Missing">Shards without a done-marker (not run, or interrupted).</param>
/// <param name="Corrupt">Shard index and what is wrong with it.</param>
public sealed record ShardReport(ShardPlan Plan, IReadOnlyList<int> Complete, IReadOnlyList<int> Missing, IReadOnlyList<(int Shard, string Problem)> Corrupt)
{
    /// <summary>True when every shard is complete.</summary>
    public bool IsComplete => Missing.Count == 0 && Corrupt.Count == 0;
}

/// <summary>The output folder of a sharded embedding job: <c>plan.json</c>, and per input shard k
/// <c>shard-k.safetensors</c> (embeddings), <c>shard-k.keys.txt</c> (the input of each row, in order),
/// <c>shard-k.parquet</c> (both as a table, for DuckDB/Spark/pandas) and <c>shard-k.done</c>. Every file appears by rename, so a worker killed at any moment leaves either a complete
/// shard or no done-marker.</summary>
public sealed class ShardStore(string folder)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>The folder.</summary>
    public string Folder => folder;

    /// <summary>Path of shard <paramref name="shard"/>'s file with <paramref name="suffix"/> (".safetensors", ".keys.txt", ".done").</summary>
    public string PathOf(int shard, string suffix) => Path.Combine(folder, $"shard-{shard:D5}{suffix}");

    /// <summary>Creates the plan, or checks that the folder's plan is the same one (another worker wrote it first).</summary>
    /// <exception cref="InvalidOperationException">The folder belongs to a job with other inputs, shard size or model.</exception>
    public void Agree(ShardPlan plan)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "plan.json");
        WriteAtomically(path + $".{Environment.ProcessId}.tmp", path, JsonSerializer.Serialize(plan, Json), overwrite: false);
        var existing = ReadPlan();
        if (existing != plan)
            throw new InvalidOperationException($"{folder} holds another job's shards ({existing}); use a new output folder or the same inputs and settings");
    }

    /// <summary>The folder's plan.</summary>
    public ShardPlan ReadPlan()
    {
        string path = Path.Combine(folder, "plan.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: no plan.json (not a sharded embedding folder)");
        return JsonSerializer.Deserialize<ShardPlan>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty");
    }

    /// <summary>True when shard <paramref name="shard"/> has a done-marker.</summary>
    public bool IsDone(int shard) => File.Exists(PathOf(shard, ".done"));

    /// <summary>Writes the key list and then the done-marker of a shard whose embeddings and Parquet files are already in place.</summary>
    public void Complete(int shard, IReadOnlyList<string> keys, IReadOnlyList<SkippedItem> skipped)
    {
        string keysPath = PathOf(shard, ".keys.txt");
        WriteAtomically(keysPath + ".tmp", keysPath, string.Concat(keys.Select(k => k + "\n")), overwrite: true);
        var done = new ShardDone(keys.Count, skipped, Sha256(PathOf(shard, ".safetensors")), Sha256(keysPath), Sha256(PathOf(shard, ".parquet")));
        WriteAtomically(PathOf(shard, ".done.tmp"), PathOf(shard, ".done"), JsonSerializer.Serialize(done, Json), overwrite: true);
    }

    /// <summary>Checks every shard of the plan against its done-marker (hashes and row counts).</summary>
    public ShardReport Check()
    {
        var plan = ReadPlan();
        List<int> complete = [], missing = [];
        var corrupt = new List<(int, string)>();
        for (int k = 0; k < plan.Shards; k++)
        {
            if (!IsDone(k)) { missing.Add(k); continue; }
            string? problem = Verify(k);
            if (problem is null) complete.Add(k);
            else corrupt.Add((k, problem));
        }
        return new ShardReport(plan, complete, missing, corrupt);
    }

    /// <summary>The shard's done-marker, or null when absent.</summary>
    public ShardDone? ReadDone(int shard) =>
        IsDone(shard) ? JsonSerializer.Deserialize<ShardDone>(File.ReadAllText(PathOf(shard, ".done")), Json) : null;

    /// <summary>Null when shard <paramref name="shard"/>'s outputs match its done-marker, else what is wrong.</summary>
    public string? Verify(int shard)
    {
        if (!IsDone(shard)) return "no done-marker";
        ShardDone done;
        try { done = ReadDone(shard)!; }
        catch (JsonException e) { return $"unreadable done-marker: {e.Message}"; }
        string embeddings = PathOf(shard, ".safetensors"), keys = PathOf(shard, ".keys.txt");
        if (!File.Exists(embeddings)) return "embeddings file missing";
        if (!File.Exists(keys)) return "key list missing";
        if (!File.Exists(PathOf(shard, ".parquet"))) return "Parquet table missing";
        if (Sha256(embeddings) != done.EmbeddingsSha256) return "embeddings file does not match its done-marker";
        if (Sha256(keys) != done.KeysSha256) return "key list does not match its done-marker";
        if (Sha256(PathOf(shard, ".parquet")) != done.ParquetSha256) return "Parquet table does not match its done-marker";
        return null;
    }

    /// <summary>Lower-case hex SHA-256 of a file.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Lower-case hex SHA-256 of the ordered input list (one path per line).</summary>
    public static string HashInputs(IEnumerable<string> inputs) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Concat(inputs.Select(i => i + "\n")))));

    // Temp file in the same folder, then rename: readers see the old file, no file, or the whole new one.
    private static void WriteAtomically(string temp, string final, string text, bool overwrite)
    {
        File.WriteAllText(temp, text);
        try { File.Move(temp, final, overwrite); }
        catch (IOException) when (!overwrite && File.Exists(final)) { File.Delete(temp); }
    }
}
