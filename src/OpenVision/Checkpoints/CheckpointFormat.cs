namespace OpenVision.Checkpoints;

/// <summary>Kinds of weight file, as told apart by their first bytes.</summary>
public enum CheckpointFormat
{
    /// <summary>Not a format we recognise (or an empty file).</summary>
    Unknown,
    /// <summary>safetensors: 8-byte little-endian header length, then a JSON header.</summary>
    Safetensors,
    /// <summary>torch.save's zip archive (PyTorch 1.6 and later).</summary>
    TorchZip,
    /// <summary>A bare pickle: torch.save's legacy format, or any Python pickle; never executed.</summary>
    LegacyPickle,
}
