using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace OpenVision.Hub;

/// <summary>Downloads one blob into <c>{blob}.incomplete</c>, resuming from what is already there with a Range
/// request, checks its size (and SHA-256 for LFS blobs), then renames it into place atomically.</summary>
internal sealed partial class BlobDownloader(HubHttp http, HubOptions options)
{
    private const int BufferSize = 1 << 20;

    /// <summary>Fetches the blob described by <paramref name="metadata"/> to <paramref name="blobPath"/>.</summary>
    public async Task FetchAsync(HubFileMetadata metadata, string blobPath, string fileName,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        string incomplete = blobPath + ".incomplete";
        long? expected = metadata.Size;
        for (int attempt = 0; ; attempt++)
        {
            long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
            if (expected is long total && have > total) { File.Delete(incomplete); have = 0; }
            if (expected is long done && have == done && have > 0) break; // finished by an earlier, interrupted call
            try
            {
                await TransferAsync(metadata.Location, metadata.Redirected, incomplete, have, expected, fileName, progress, ct).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
            {
                if (attempt >= options.MaxResumeAttempts)
                {
                    long kept = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
                    throw new HubException(metadata.Location.ToString(),
                        $"transfer broke after {kept} of {expected?.ToString() ?? "?"} bytes ({e.Message}); the partial file is kept and the next call resumes it", inner: e);
                }
            }
        }
        Verify(metadata, incomplete, expected);
        File.Move(incomplete, blobPath, overwrite: true);
    }

    // huggingface_hub sends no token to the URL an LFS file redirects to: presigned CDN URLs must not see it.
    private async Task TransferAsync(Uri url, bool redirected, string incomplete, long have, long? expected, string fileName,
        IProgress<HubDownloadProgress>? progress, CancellationToken ct)
    {
        using var response = await http.SendAsync(HttpMethod.Get, url, followAbsolute: true, authorize: !redirected, rangeStart: have, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The partial file does not fit the blob any more; start again from nothing.
            File.Delete(incomplete);
            throw new IOException("the server refused to resume (HTTP 416)");
        }
        HubHttp.EnsureSuccess(response, url, options.Token is { Length: > 0 });
        if (have > 0 && response.StatusCode != HttpStatusCode.PartialContent)
            have = 0; // the server ignored the Range header and sends the whole file
        else if (have > 0 && response.Content.Headers.ContentRange?.From != have)
        {
            File.Delete(incomplete);
            throw new IOException($"the server resumed at byte {response.Content.Headers.ContentRange?.From} instead of {have}");
        }

        // The length the server is about to send must complete the announced size exactly.
        if (expected is long size && response.Content.Headers.ContentLength is long length && have + length != size)
        {
            File.Delete(incomplete);
            throw new HubException(url.ToString(), $"size mismatch: the hub announced {size} bytes but the server sends {have + length}");
        }
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using var file = new FileStream(incomplete, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        var buffer = new byte[BufferSize];
        long written = have;
        progress?.Report(new HubDownloadProgress(fileName, written, expected));
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        int read;
        while ((read = await ReadAsync(body, buffer, stall, ct).ConfigureAwait(false)) > 0)
        {
            // Never store more than the hub announced: a wrong or hostile server cannot fill the disk.
            if (expected is long total && written + read > total)
            {
                await file.DisposeAsync().ConfigureAwait(false);
                File.Delete(incomplete);
                throw new HubException(url.ToString(), $"size mismatch: the server sends more than the {total} bytes the hub announced");
            }
            await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            written += read;
            progress?.Report(new HubDownloadProgress(fileName, written, expected));
        }
        // A connection closed early without a Content-Length looks like a normal end: treat it as broken, to resume.
        if (expected is long announced && written < announced)
            throw new IOException($"the connection closed after {written} of {announced} bytes");
    }

    // A server that stops sending without closing would hang the download forever; a stall counts as a broken
    // connection, which the caller resumes.
    private async Task<int> ReadAsync(Stream body, byte[] buffer, CancellationTokenSource stall, CancellationToken ct)
    {
        stall.CancelAfter(options.RequestTimeout);
        try { return await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new IOException($"no data for {options.RequestTimeout.TotalSeconds:0} s");
        }
    }

    private void Verify(HubFileMetadata metadata, string incomplete, long? expected)
    {
        long actual = new FileInfo(incomplete).Length;
        if (expected is long total && actual != total)
        {
            File.Delete(incomplete);
            throw new HubException(metadata.Location.ToString(), $"size mismatch: received {actual} bytes, the hub announced {total}");
        }
        // An LFS blob's ETag is the SHA-256 of its content, so the hash proves the whole file, resumed parts included.
        if (!options.VerifySha256 || !Sha256Pattern().IsMatch(metadata.Etag)) return;
        string hash;
        using (var stream = new FileStream(incomplete, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize))
            hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (hash == metadata.Etag) return;
        File.Delete(incomplete);
        throw new HubException(metadata.Location.ToString(), $"checksum mismatch: the file's SHA-256 is {hash}, its ETag says {metadata.Etag}");
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
