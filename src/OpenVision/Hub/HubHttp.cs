using System.Net;
using System.Net.Http.Headers;

namespace OpenVision.Hub;

/// <summary>What the hub says about one file: the commit the revision points to, the blob's ETag and size, and
/// where to GET it; <see cref="Redirected"/> is true when that is a redirect target (an LFS file on a CDN).</summary>
internal sealed record HubFileMetadata(string Commit, string Etag, long? Size, Uri Location, bool Redirected);

/// <summary>HTTP plumbing shared by metadata and blob requests: authorization only towards the hub's own host,
/// redirects followed by hand so that decision is ours, and hub errors turned into one-line messages.</summary>
internal sealed class HubHttp(HttpClient client, HubOptions options)
{
    private const int MaxRedirects = 10;
    private readonly Uri _endpoint = new(options.Endpoint.TrimEnd('/') + "/");

    /// <summary>Sends a request, following redirects; <paramref name="followAbsolute"/> false stops at a redirect to
    /// another URL (huggingface_hub's HEAD: the LFS metadata headers sit on the 302 itself). The token goes only to
    /// the hub's host, and only when <paramref name="authorize"/> is set.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, bool followAbsolute, bool authorize, long rangeStart, CancellationToken ct)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            // The real size, not a compressed one: sizes and byte ranges must refer to the file itself.
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("OpenVision.NET", typeof(HubHttp).Assembly.GetName().Version?.ToString(3) ?? "0"));
            // Only the hub sees the token; a CDN or any other host it redirects to does not.
            if (authorize && options.Token is { Length: > 0 } token && IsHubHost(url))
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (rangeStart > 0) request.Headers.Range = new RangeHeaderValue(rangeStart, null);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.RequestTimeout);
            HttpResponseMessage response;
            try { response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new HttpRequestException($"no response within {options.RequestTimeout.TotalSeconds:0} s", e);
            }

            int status = (int)response.StatusCode;
            if (status is < 300 or > 399 || response.Headers.Location is not { } location) return response;
            if (location.IsAbsoluteUri && !followAbsolute) return response;
            response.Dispose();
            if (hop >= MaxRedirects) throw new HubException(url.ToString(), $"more than {MaxRedirects} redirects");
            url = new Uri(url, location); // a relative Location is a renamed repository on the same hub
        }
    }

    /// <summary>Throws a <see cref="HubException"/> unless the response is a success (or, for HEAD, a redirect).</summary>
    public static void EnsureSuccess(HttpResponseMessage response, Uri url, bool hasToken)
    {
        int status = (int)response.StatusCode;
        if (status is >= 200 and < 400) return;
        string? code = response.Headers.TryGetValues("X-Error-Code", out var values) ? values.FirstOrDefault() : null;
        string problem = (response.StatusCode, code) switch
        {
            (_, "RepoNotFound") => "repository not found (or private: set HF_TOKEN)",
            (_, "RevisionNotFound") => "revision not found in the repository",
            (_, "EntryNotFound") => "file not found in the repository at this revision",
            (_, "GatedRepo") => "gated repository: accept its terms on the hub and set HF_TOKEN",
            (HttpStatusCode.NotFound, _) => "not found (HTTP 404)",
            (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, _) => hasToken
                ? $"access denied (HTTP {status}); the token in HF_TOKEN was refused"
                : $"access denied (HTTP {status}); set HF_TOKEN for gated or private repositories",
            _ => $"HTTP {status} {response.ReasonPhrase}",
        };
        throw new HubException(url.ToString(), problem, status);
    }

    /// <summary>True when <paramref name="url"/> is on the configured hub (same scheme, host and port).</summary>
    public bool IsHubHost(Uri url) => Uri.Compare(url, _endpoint, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>The hub's resolve URL: <c>{endpoint}/{repo}/resolve/{revision}/{file}</c>, revision fully escaped
    /// ("refs/pr/1" → "refs%2Fpr%2F1") and each file segment escaped.</summary>
    public Uri ResolveUrl(HubModelId id, string fileName) =>
        new(_endpoint, $"{id.RepoId}/resolve/{Uri.EscapeDataString(id.Revision)}/{string.Join('/', HubCache.SplitFileName(fileName).Select(Uri.EscapeDataString))}");

    /// <summary>HEADs the resolve URL and reads X-Repo-Commit, X-Linked-Etag/ETag and X-Linked-Size/Content-Length.</summary>
    public async Task<HubFileMetadata> GetMetadataAsync(Uri url, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Head, url, followAbsolute: false, authorize: true, rangeStart: 0, ct).ConfigureAwait(false);
        EnsureSuccess(response, url, options.Token is { Length: > 0 });
        string? commit = Header(response, "X-Repo-Commit");
        string? etag = NormalizeEtag(Header(response, "X-Linked-Etag") ?? Header(response, "ETag"));
        string? sizeText = Header(response, "X-Linked-Size") ?? response.Content.Headers.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (commit is null) throw new HubException(url.ToString(), "the server sent no X-Repo-Commit header; it does not look like a Hugging Face hub");
        if (etag is null) throw new HubException(url.ToString(), "the server sent no ETag, so the download cannot be cached reproducibly");
        if (!HubCache.IsSafeSegment(commit) || !HubCache.IsSafeSegment(etag))
            throw new HubException(url.ToString(), "the server sent a commit or ETag that is not a plain identifier");
        long? size = long.TryParse(sizeText, out long s) && s >= 0 ? s : null;
        Uri location = response.Headers.Location is { } loc ? new Uri(url, loc) : response.RequestMessage?.RequestUri ?? url;
        return new HubFileMetadata(commit, etag, size, location, Redirected: response.Headers.Location != null);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.FirstOrDefault() : null;

    // ETags arrive quoted and possibly weak (W/"..."); the cache uses the bare value.
    private static string? NormalizeEtag(string? etag)
    {
        if (etag is null) return null;
        string bare = etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag;
        return bare.Trim('"');
    }
}
