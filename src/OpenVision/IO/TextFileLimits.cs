namespace OpenVision.IO;

/// <summary>Bounds for reading a text input (a JSONL file, a template or label list) line by line.</summary>
public sealed record TextFileLimits
{
    /// <summary>64 MiB files, lines of up to 1 Mi characters; the environment variables <c>OPENVISION_MAX_TEXT_BYTES</c>
    /// and <c>OPENVISION_MAX_LINE_LENGTH</c> raise them when they hold a positive integer.</summary>
    public static TextFileLimits Default { get; } = new()
    {
        MaxBytes = long.TryParse(Environment.GetEnvironmentVariable("OPENVISION_MAX_TEXT_BYTES"), out long bytes) && bytes > 0 ? bytes : 64L << 20,
        MaxLineLength = int.TryParse(Environment.GetEnvironmentVariable("OPENVISION_MAX_LINE_LENGTH"), out int length) && length > 0 ? length : 1 << 20,
    };

    /// <summary>Largest file accepted, in bytes.</summary>
    public long MaxBytes { get; init; } = 64L << 20;

    /// <summary>Longest line accepted, in characters.</summary>
    public int MaxLineLength { get; init; } = 1 << 20;
}
