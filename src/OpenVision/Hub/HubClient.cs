namespace OpenVision.Hub;

/// <summary>Downloads files from a Hugging Face hub into the shared huggingface_hub cache; the only class in the
/// library that uses the network.</summary>
/// <remarks>Follows huggingface_hub's <c>hf_hub_download</c>: HEAD the resolve URL for commit, ETag and size; reuse
/// <c>snapshots/{commit}/{file}</c> or <c>blobs/{etag}</c> when present; otherwise GET (resuming a partial
/// <c>.incomplete</c> file), verify, rename, link. In offline mode, or when the hub cannot be reached, files are
/// resolved from the cache alone.</remarks>
public sealed class HubClient : IDisposable
{
    private readonly HttpClient _client;
    private readonly HubHttp _http;
    private readonly BlobDownloader _downloader;

    /// <summary>Creates a client; without options it reads HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE/HF_HOME and
    /// HF_HUB_OFFLINE like huggingface_hub.</summary>
    public HubClient(HubOptions? options = null)
    {
        Options = options ?? HubOptions.FromEnvironment();
        Cache = new HubCache(Options.CacheDirectory);
        // Redirects are followed by HubHttp so that it decides where the token goes; sizes must be uncompressed.
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            ConnectTimeout = Options.RequestTimeout,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http = new HubHttp(_client, Options);
        _downloader = new BlobDownloader(_http, Options);
    }

    /// <summary>The options in effect.</summary>
    public HubOptions Options { get; }

    /// <summary>The cache this client reads and fills.</summary>
    public HubCache Cache { get; }

    /// <summary>Downloads <paramref name="fileName"/> of the model <paramref name="modelId"/>
    /// (<c>hf-hub:ORG/NAME[@REVISION]</c>) and returns its path in the cache.</summary>
    /// <exception cref="HubException">The hub refused or failed, the data did not verify, or the file is needed
    /// offline and not cached.</exception>
    public Task<string> DownloadAsync(string modelId, string fileName, IProgress<HubDownloadProgress>? progress = null, CancellationToken ct = default) =>
        DownloadAsync(HubModelId.Parse(modelId), fileName, progress, ct);

    /// <summary>Downloads <paramref name="fileName"/> of <paramref name="id"/> and returns its path in the cache.</summary>
    /// <exception cref="HubException">The hub refused or failed, the data did not verify, or the file is needed
    /// offline and not cached.</exception>
    public async Task<string> DownloadAsync(HubModelId id, string fileName, IProgress<HubDownloadProgress>? progress = null, CancellationToken ct = default)
    {
        HubCache.SplitFileName(fileName);
        // A commit never changes, and a branch need not be rechecked when the caller says so: no request at all.
        if (Options.Offline || id.IsCommitHash || !Options.RevalidateRevisions)
        {
            if (Cache.TryResolve(id, fileName) is { } cached) return cached;
            if (Options.Offline)
                throw new HubException(CacheTarget(id, fileName), "offline mode (HF_HUB_OFFLINE) and the file is not in the cache");
        }

        Uri url = _http.ResolveUrl(id, fileName);
        HubFileMetadata metadata;
        try { metadata = await _http.GetMetadataAsync(url, ct).ConfigureAwait(false); }
        catch (HttpRequestException e)
        {
            // No network (or no hub): the cache may still have what an earlier run resolved.
            return Cache.TryResolve(id, fileName) ?? throw new HubException(url.ToString(),
                $"cannot reach the hub ({e.Message}) and the file is not in the cache at {Cache.Root}", inner: e);
        }
        catch (HubException e) when (e.StatusCode >= 500)
        {
            // A hub outage is treated like no network, as huggingface_hub does; refusals (401, 404) are not.
            if (Cache.TryResolve(id, fileName) is { } cached) return cached;
            throw;
        }

        string blob = Cache.BlobPath(id, metadata.Etag);
        string pointer = Cache.SnapshotPath(id, metadata.Commit, fileName);
        Cache.WriteRef(id, id.Revision, metadata.Commit);
        if (File.Exists(pointer)) return pointer;

        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        using (await FileLock.AcquireAsync(Cache.LockPath(id, metadata.Etag), ct).ConfigureAwait(false))
        {
            // Another process may have finished this blob while we waited for the lock.
            if (!File.Exists(blob)) await _downloader.FetchAsync(metadata, blob, fileName, progress, ct).ConfigureAwait(false);
            else progress?.Report(new HubDownloadProgress(fileName, new FileInfo(blob).Length, metadata.Size));
            HubCache.Link(blob, pointer, Options.UseSymlinks);
        }
        return pointer;
    }

    /// <summary>Downloads synchronously; prefer <see cref="DownloadAsync(string, string, IProgress{HubDownloadProgress}?, CancellationToken)"/>.</summary>
    public string Download(string modelId, string fileName, IProgress<HubDownloadProgress>? progress = null) =>
        DownloadAsync(modelId, fileName, progress).GetAwaiter().GetResult();

    /// <summary>The cached path of the file for the id's revision, or null; never uses the network.</summary>
    public string? TryGetCached(HubModelId id, string fileName) => Cache.TryResolve(id, fileName);

    /// <summary>Releases the HTTP connection pool.</summary>
    public void Dispose() => _client.Dispose();

    private string CacheTarget(HubModelId id, string fileName) => $"{Cache.RepoFolder(id)} ({id} {fileName})";
}
