namespace OpenVision.IO;

/// <summary>A <c>.npy</c> array file is malformed: bad magic or header, an unsupported dtype, or data that does not match
/// the header's shape. These files are input data (preprocessed pixels, token ids), not checkpoints. The message is one
/// line naming the file.</summary>
public sealed class NpyFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> with a one-line reason.</summary>
    public NpyFormatException(string path, string problem, Exception? inner = null) : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>What is wrong, without the name.</summary>
    public string Problem { get; }
}
