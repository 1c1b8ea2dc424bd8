namespace OpenVision.Training.Data.WebDataset;

/// <summary>Opens a shard for sequential reading: a local path (or <c>file://</c> URL), or an http(s) URL streamed
/// without downloading it first.</summary>
public static class ShardOpener
{
    private static readonly Lazy<HttpClient> Http = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(10) });

    /// <summary>Opens <paramref name="shard"/>; the caller disposes the stream.</summary>
    /// <exception cref="IOException">The shard cannot be opened (the message names it).</exception>
    public static Stream Open(string shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        try
        {
            if (shard.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || shard.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                return OpenHttp(shard);
            string path = shard.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(shard).LocalPath : shard;
            // Large buffer, sequential hint: shards are read once, front to back.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or HttpRequestException or TaskCanceledException or UriFormatException or NotSupportedException)
        {
            throw new IOException($"{shard}: {e.Message}", e);
        }
    }

    private static Stream OpenHttp(string url)
    {
        var response = Http.Value.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
        {
            int status = (int)response.StatusCode;
            response.Dispose();
            throw new IOException($"{url}: HTTP {status}");
        }
        return new BufferedStream(response.Content.ReadAsStream(), 1 << 20);
    }
}
