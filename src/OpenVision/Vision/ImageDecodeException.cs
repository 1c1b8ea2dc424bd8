namespace OpenVision.Vision;

/// <summary>An image could not be decoded: empty, truncated, corrupt, of an unknown format or too large.
/// The message names the file.</summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>Creates the exception for the image called <paramref name="name"/> with a one-line reason.</summary>
    public ImageDecodeException(string name, string problem, Exception? inner = null)
        : base($"{name}: {problem}", inner)
    {
        Name = name;
        Problem = problem;
    }

    /// <summary>The file path or the name the caller gave the data.</summary>
    public string Name { get; }

    /// <summary>What is wrong, without the name.</summary>
    public string Problem { get; }
}
