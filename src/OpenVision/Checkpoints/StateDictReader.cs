using System.Buffers.Binary;

namespace OpenVision.Checkpoints;

/// <summary>Reads a state dict from any supported weight file, choosing the reader from the file's content,
/// never from its extension (a .bin may be either format; a .pt may be a hostile pickle).</summary>
public static class StateDictReader
{
    /// <summary>Reads every tensor of the safetensors or torch.save file at <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointFormatException">The file is missing, of an unsupported format, or malformed.</exception>
    public static Dictionary<string, TensorData> Read(string path) => Detect(path) switch
    {
        CheckpointFormat.Safetensors => SafetensorsFile.Read(path),
        CheckpointFormat.TorchZip => TorchCheckpointReader.Read(path),
        CheckpointFormat.LegacyPickle => throw new CheckpointFormatException(path,
            "legacy (non-zip) PyTorch pickle: not loaded, since unpickling it could run code; re-save it with a current torch.save or convert it to safetensors"),
        _ => throw new CheckpointFormatException(path, new FileInfo(path).Length == 0
            ? "empty file"
            : "unknown format: neither safetensors nor a torch.save zip archive"),
    };

    /// <summary>Identifies the format of the file at <paramref name="path"/> from its first bytes.</summary>
    public static CheckpointFormat Detect(string path)
    {
        Span<byte> head = stackalloc byte[9];
        long length;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            length = stream.Length;
            head = head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException(path, e.Message, e);
        }
        return Detect(head, length);
    }

    /// <summary>Identifies a format from the first (up to 9) bytes and the total length.</summary>
    public static CheckpointFormat Detect(ReadOnlySpan<byte> head, long length)
    {
        // Zip local header "PK\x03\x04", or "PK\x05\x06" for an archive with no records.
        if (head.Length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2], head[3]) is (3, 4) or (5, 6)) return CheckpointFormat.TorchZip;
        // Every pickle of protocol 2 or later starts with PROTO (0x80) and a protocol number.
        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5) return CheckpointFormat.LegacyPickle;
        if (head.Length >= 9)
        {
            // safetensors: the JSON header starts with '{'; accept a plausible length too, so that a damaged header
            // gets safetensors' precise diagnosis instead of "unknown format".
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (head[8] == '{' || (headerLength > 0 && headerLength <= (ulong)(length - 8))) return CheckpointFormat.Safetensors;
        }
        return CheckpointFormat.Unknown;
    }
}
