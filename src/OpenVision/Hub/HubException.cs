namespace OpenVision.Hub;

/// <summary>A hub download or cache lookup failed; the message names the URL or cache path and the problem in one line.</summary>
public sealed class HubException : Exception
{
    /// <summary>Creates the exception for <paramref name="target"/> (a URL or a path) with a one-line reason.</summary>
    public HubException(string target, string problem, int? statusCode = null, Exception? inner = null)
        : base($"{target}: {problem}", inner)
    {
        Target = target;
        Problem = problem;
        StatusCode = statusCode;
    }

    /// <summary>The URL or cache path concerned.</summary>
    public string Target { get; }

    /// <summary>What went wrong, without the target.</summary>
    public string Problem { get; }

    /// <summary>The HTTP status the hub answered with, when the failure was an HTTP error.</summary>
    public int? StatusCode { get; }
}
