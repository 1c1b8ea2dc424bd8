using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace OpenVision.Tests.Hub;

/// <summary>A real HTTP/1.1 server on 127.0.0.1 that answers like the Hugging Face hub for one repository:
/// <c>/{repo}/resolve/{revision}/{file}</c> with X-Repo-Commit and ETag headers, LFS files redirected (302) to a
/// <c>/cdn/{sha256}</c> URL with X-Linked-Etag/X-Linked-Size, byte ranges, and switches for the failures a client
/// must survive. One request per connection keeps it small.</summary>
public sealed class FakeHubServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _dropsLeft;

    public FakeHubServer()
    {
        _listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    public string RepoId { get; init; } = "org/model";
    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Repository files by name; names in <see cref="LfsFiles"/> are served through the CDN redirect.</summary>
    public Dictionary<string, byte[]> Files { get; } = [];
    public HashSet<string> LfsFiles { get; } = [];

    /// <summary>When set, resolve requests without "Authorization: Bearer {token}" get 401.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>The next <paramref name="times"/> file bodies are cut after <paramref name="bytes"/> bytes.</summary>
    public void DropConnections(int times, int bytes, bool stallFirst = false) { _dropsLeft = times; DropAfterBytes = bytes; StallBeforeDrop = stallFirst; }
    public int DropAfterBytes { get; private set; }

    /// <summary>Before cutting a connection, keep it open and silent for a while (a stalled transfer).</summary>
    public bool StallBeforeDrop { get; private set; }

    /// <summary>Announce this many bytes more than the file has (X-Linked-Size / Content-Length of the HEAD).</summary>
    public long SizeLie { get; set; }

    /// <summary>Serve LFS content with one byte flipped (same length, wrong SHA-256).</summary>
    public bool CorruptLfs { get; set; }

    /// <summary>Answer the HEAD with this ETag instead of the real one.</summary>
    public string? EtagOverride { get; set; }

    /// <summary>Requests to "/{RenamedFrom}/..." are redirected (307, relative Location) to the repository.</summary>
    public string? RenamedFrom { get; set; }

    /// <summary>Answer every resolve request with this status (an outage), when set.</summary>
    public int? FailWith { get; set; }

    public ConcurrentQueue<Request> Requests { get; } = new();

    public sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers);

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    // Git's blob id: what the hub sends as the ETag of a file that is not in LFS.
    public static string GitBlobSha1(byte[] data) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {data.Length}\0"), .. data]));

    public string EtagOf(string file) => LfsFiles.Contains(file) ? Sha256(Files[file]) : GitBlobSha1(Files[file]);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var (method, path, headers) = await ReadHead(stream);
            Requests.Enqueue(new Request(method, path, headers));
            await Route(stream, client, method, Uri.UnescapeDataString(path), headers);
        }
        catch (Exception e) when (e is IOException or SocketException) { } // the client went away
    }

    private async Task Route(NetworkStream stream, TcpClient client, string method, string path, Dictionary<string, string> headers)
    {
        if (RenamedFrom != null && path.StartsWith($"/{RenamedFrom}/", StringComparison.Ordinal))
        {
            await Respond(stream, 307, new() { ["Location"] = "/" + RepoId + path[(RenamedFrom.Length + 1)..] }, []);
            return;
        }
        if (path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            var file = Files.FirstOrDefault(f => LfsFiles.Contains(f.Key) && Sha256(f.Value) == path[5..]);
            if (file.Key is null) { await Respond(stream, 404, [], []); return; }
            byte[] content = file.Value.ToArray();
            if (CorruptLfs) content[content.Length / 2] ^= 0xFF;
            await SendBody(stream, client, method, headers, content, []);
            return;
        }
        if (FailWith is int failure) { await Respond(stream, failure, [], []); return; }
        string prefix = $"/{RepoId}/resolve/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal)) { await Respond(stream, 404, new() { ["X-Error-Code"] = "RepoNotFound" }, []); return; }
        if (RequiredToken != null && headers.GetValueOrDefault("authorization") != $"Bearer {RequiredToken}")
        {
            await Respond(stream, 401, [], []);
            return;
        }
        string rest = path[prefix.Length..];
        int slash = rest.IndexOf('/');
        string revision = rest[..slash], name = rest[(slash + 1)..];
        var hubHeaders = new Dictionary<string, string> { ["X-Repo-Commit"] = Commit };
        if (revision != "main" && revision != Commit) { await Respond(stream, 404, new() { ["X-Error-Code"] = "RevisionNotFound" }, []); return; }
        if (!Files.TryGetValue(name, out var data)) { hubHeaders["X-Error-Code"] = "EntryNotFound"; await Respond(stream, 404, hubHeaders, []); return; }

        string etag = EtagOverride ?? EtagOf(name);
        if (LfsFiles.Contains(name))
        {
            hubHeaders["X-Linked-Etag"] = $"\"{etag}\"";
            hubHeaders["X-Linked-Size"] = (data.Length + SizeLie).ToString();
            hubHeaders["ETag"] = $"\"{GitBlobSha1(Encoding.ASCII.GetBytes("pointer"))}\"";
            hubHeaders["Location"] = $"{Endpoint}/cdn/{Sha256(data)}";
            await Respond(stream, 302, hubHeaders, []);
            return;
        }
        hubHeaders["ETag"] = $"\"{etag}\"";
        if (method == "HEAD" && SizeLie != 0) { await Respond(stream, 200, hubHeaders, [], contentLength: data.Length + SizeLie); return; }
        await SendBody(stream, client, method, headers, data, hubHeaders);
    }

    // Serves a body honouring "Range: bytes=N-", and cuts the connection mid-body when asked to.
    private async Task SendBody(NetworkStream stream, TcpClient client, string method, Dictionary<string, string> headers, byte[] data, Dictionary<string, string> extra)
    {
        long start = 0;
        int status = 200;
        if (headers.TryGetValue("range", out var range) && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range[6..^1]);
            if (start >= data.Length) { await Respond(stream, 416, new() { ["Content-Range"] = $"bytes */{data.Length}" }, []); return; }
            status = 206;
            extra["Content-Range"] = $"bytes {start}-{data.Length - 1}/{data.Length}";
        }
        extra["Accept-Ranges"] = "bytes";
        byte[] body = data[(int)start..];
        if (method == "HEAD") { await Respond(stream, status, extra, [], contentLength: body.Length); return; }
        if (Interlocked.Decrement(ref _dropsLeft) >= 0)
        {
            await Respond(stream, status, extra, body[..Math.Min(DropAfterBytes, body.Length)], contentLength: body.Length);
            if (StallBeforeDrop) await Task.Delay(TimeSpan.FromSeconds(5), _stop.Token).ContinueWith(_ => { });
            // Close before the announced Content-Length is reached (a FIN, so the bytes sent do arrive).
            client.Client.Shutdown(SocketShutdown.Both);
            client.Client.Close();
            return;
        }
        await Respond(stream, status, extra, body);
    }

    private static async Task Respond(NetworkStream stream, int status, Dictionary<string, string> headers, byte[] body, long? contentLength = null)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} {(HttpStatusCode)status}\r\n");
        foreach (var (k, v) in headers) head.Append($"{k}: {v}\r\n");
        head.Append($"Content-Length: {contentLength ?? body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        await stream.WriteAsync(body);
        await stream.FlushAsync();
    }

    private static async Task<(string Method, string Path, Dictionary<string, string> Headers)> ReadHead(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 65536 && !(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) throw new IOException("closed before the request head ended");
            bytes.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString(bytes.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var parts = lines[0].Split(' ');
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        return (parts[0], parts[1], headers);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
