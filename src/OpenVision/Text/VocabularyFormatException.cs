namespace OpenVision.Text;

/// <summary>A WordPiece vocabulary file is malformed; the message names the file.</summary>
public sealed class VocabularyFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> with a one-line reason.</summary>
    public VocabularyFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The offending file (or embedded resource name).</summary>
    public string Path { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }
}
