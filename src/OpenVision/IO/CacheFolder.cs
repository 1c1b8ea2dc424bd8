namespace OpenVision.IO;

/// <summary>Where OpenVision keeps per-user caches (measurements, ONNX exports): <c>$XDG_CACHE_HOME/openvision</c>,
/// else <c>~/.cache/openvision</c>, as the XDG base directory convention says.</summary>
public static class CacheFolder
{
    /// <summary>The user's cache folder for OpenVision.</summary>
    public static string Default =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "openvision");
}
