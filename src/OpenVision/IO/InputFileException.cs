namespace OpenVision.IO;

/// <summary>A file named as input cannot be read within the limits: missing, not a regular file, or too large.
/// The message is one line naming the file.</summary>
public sealed class InputFileException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/> with a one-line reason.</summary>
    public InputFileException(string path, string problem) : base($"{path}: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>What is wrong, without the name.</summary>
    public string Problem { get; }
}
