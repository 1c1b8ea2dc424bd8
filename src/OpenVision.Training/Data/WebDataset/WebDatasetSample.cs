namespace OpenVision.Training.Data.WebDataset;

/// <summary>One WebDataset sample as stored: the files that share a key, by extension.</summary>
/// <param name="Key">The path inside the tar up to the first dot of the base name (directories included).</param>
/// <param name="Shard">The shard it was read from.</param>
/// <param name="Files">File contents by lower-case extension without the leading dot ("jpg", "txt", "recap.txt").</param>
public sealed record WebDatasetSample(string Key, string Shard, IReadOnlyDictionary<string, byte[]> Files)
{
    /// <summary>The name of one of the sample's files, as it appears in the tar, for messages.</summary>
    public string FileName(string extension) => $"{Shard}:{Key}.{extension}";
}
