namespace OpenVision.Training.Data;

/// <summary>Why a sample (or the rest of a shard) was skipped.</summary>
public enum SkipReason
{
    /// <summary>The sample has no file with an image extension.</summary>
    MissingImage,

    /// <summary>The sample has no alt-text (or it is empty).</summary>
    MissingAltText,

    /// <summary>The image bytes could not be decoded.</summary>
    UndecodableImage,

    /// <summary>A file could not be read (missing, permissions, I/O error).</summary>
    UnreadableFile,

    /// <summary>A text, JSON or label file could not be parsed.</summary>
    BadMetadata,

    /// <summary>A tar shard ends in the middle of a record or has a corrupt header; samples before the break are kept.</summary>
    TruncatedShard,

    /// <summary>A shard could not be opened at all.</summary>
    UnreadableShard,
}
