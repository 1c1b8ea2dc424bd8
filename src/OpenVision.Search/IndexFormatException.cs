namespace OpenVision.Search;

/// <summary>An index folder or file that is missing, damaged or of another format; the message names the file.</summary>
public sealed class IndexFormatException(string path, string problem) : Exception($"{path}: {problem}")
{
    /// <summary>The file or folder.</summary>
    public string Path { get; } = path;
}
