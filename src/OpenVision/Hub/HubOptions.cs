namespace OpenVision.Hub;

/// <summary>Where and how <see cref="HubClient"/> downloads; <see cref="FromEnvironment"/> reads the same
/// environment variables as huggingface_hub, so both share one cache and one configuration.</summary>
public sealed class HubOptions
{
    /// <summary>The public hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>Base URL of the hub (HF_ENDPOINT), without a trailing slash.</summary>
    public string Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Access token sent as <c>Authorization: Bearer</c> to the hub (HF_TOKEN), never to other hosts.</summary>
    public string? Token { get; init; }

    /// <summary>The hub cache folder (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub).</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory(_ => null);

    /// <summary>Never contact the hub; resolve files from the cache only (HF_HUB_OFFLINE=1).</summary>
    public bool Offline { get; init; }

    /// <summary>When false, a branch or tag already recorded in <c>refs/</c> is served from the cache without asking
    /// the hub whether it moved. True (the default) checks with one HEAD request, as huggingface_hub does.</summary>
    public bool RevalidateRevisions { get; init; } = true;

    /// <summary>Link snapshot files to blobs with relative symbolic links (huggingface_hub's layout); when false,
    /// or where links cannot be made, the blob is copied instead.</summary>
    public bool UseSymlinks { get; init; } = true;

    /// <summary>How many times one download resumes (Range request) after the connection breaks.</summary>
    public int MaxResumeAttempts { get; init; } = 3;

    /// <summary>Check a downloaded LFS blob against its SHA-256, which the hub uses as the blob's ETag.</summary>
    public bool VerifySha256 { get; init; } = true;

    /// <summary>Time allowed to connect and receive response headers (the body may take as long as it needs).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Options from the process environment (or from <paramref name="getVariable"/>, for tests).</summary>
    public static HubOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        string? endpoint = NonEmpty(getVariable("HF_ENDPOINT"));
        return new HubOptions
        {
            Endpoint = (endpoint ?? DefaultEndpoint).TrimEnd('/'),
            Token = ReadToken(getVariable),
            CacheDirectory = DefaultCacheDirectory(getVariable),
            Offline = IsTrue(getVariable("HF_HUB_OFFLINE")),
        };
    }

    /// <summary>The cache folder the environment selects.</summary>
    public static string DefaultCacheDirectory(Func<string, string?> getVariable)
    {
        string? cache = NonEmpty(getVariable("HF_HUB_CACHE")) ?? NonEmpty(getVariable("HUGGINGFACE_HUB_CACHE"));
        return ExpandHome(cache ?? Path.Combine(HfHome(getVariable), "hub"));
    }

    // huggingface_hub accepts 1/ON/YES/TRUE in any case.
    private static bool IsTrue(string? value) => value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string HfHome(Func<string, string?> getVariable)
    {
        string? home = NonEmpty(getVariable("HF_HOME"));
        if (home != null) return ExpandHome(home);
        string xdg = NonEmpty(getVariable("XDG_CACHE_HOME")) ?? Path.Combine(UserHome(), ".cache");
        return Path.Combine(ExpandHome(xdg), "huggingface");
    }

    // HF_TOKEN wins; otherwise the file `huggingface-cli login` writes (HF_TOKEN_PATH, else HF_HOME/token).
    private static string? ReadToken(Func<string, string?> getVariable)
    {
        string? token = NonEmpty(getVariable("HF_TOKEN")) ?? NonEmpty(getVariable("HUGGING_FACE_HUB_TOKEN"));
        if (token != null) return token.Trim();
        string path = ExpandHome(NonEmpty(getVariable("HF_TOKEN_PATH")) ?? Path.Combine(HfHome(getVariable), "token"));
        try { return File.Exists(path) ? NonEmpty(File.ReadAllText(path).Trim()) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string UserHome() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal) ? UserHome() + path[1..] : path;
}
