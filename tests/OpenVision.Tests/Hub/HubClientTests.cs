using OpenVision.Hub;
using OpenVision.Tests.Fixtures;

namespace OpenVision.Tests.Hub;

public sealed class HubClientTests : IDisposable
{
    private const string Config = "open_clip_config.json", Weights = "open_clip_model.safetensors", Nested = "sub/dir/notes.txt";
    private readonly FakeHubServer _server = new();
    private readonly TempFolder _temp = TestFiles.NewTempFolder();
    private readonly byte[] _weights = new byte[300_000];

    public HubClientTests()
    {
        new Random(1).NextBytes(_weights);
        _server.Files[Config] = "{\"model_cfg\": {}}"u8.ToArray();
        _server.Files[Weights] = _weights;
        _server.Files[Nested] = "hello"u8.ToArray();
        _server.LfsFiles.Add(Weights);
    }

    public void Dispose()
    {
        _server.Dispose();
        _temp.Dispose();
    }

    private string Cache => _temp.Path("hub");
    private string RepoFolder => Path.Combine(Cache, "models--org--model");

    private HubClient Client(Func<HubOptions, HubOptions>? configure = null)
    {
        var options = new HubOptions { Endpoint = _server.Endpoint, CacheDirectory = Cache, RequestTimeout = TimeSpan.FromSeconds(10) };
        return new HubClient(configure?.Invoke(options) ?? options);
    }

    private static HubOptions With(HubOptions o, string? token = null, bool offline = false, bool revalidate = true, int resumes = 3, bool symlinks = true, string? endpoint = null) =>
        new()
        {
            Endpoint = endpoint ?? o.Endpoint, CacheDirectory = o.CacheDirectory, RequestTimeout = o.RequestTimeout, Token = token,
            Offline = offline, RevalidateRevisions = revalidate, MaxResumeAttempts = resumes, UseSymlinks = symlinks,
        };

    private List<FakeHubServer.Request> TakeRequests()
    {
        var list = new List<FakeHubServer.Request>();
        while (_server.Requests.TryDequeue(out var r)) list.Add(r);
        return list;
    }

    private static string[] Listing(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(folder, p).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task DownloadsIntoHuggingFaceCacheLayout()
    {
        using var client = Client();
        string config = await client.DownloadAsync("hf-hub:org/model", Config);
        string weights = await client.DownloadAsync("hf-hub:org/model", Weights);
        string nested = await client.DownloadAsync("hf-hub:org/model", Nested);

        string c = FakeHubServer.Commit, configEtag = _server.EtagOf(Config), weightsEtag = _server.EtagOf(Weights), nestedEtag = _server.EtagOf(Nested);
        Assert.Equal(FakeHubServer.Sha256(_weights), weightsEtag);
        Assert.Equal(
            new[] { "blobs", $"blobs/{configEtag}", $"blobs/{nestedEtag}", $"blobs/{weightsEtag}", "refs", "refs/main", "snapshots", $"snapshots/{c}",
                $"snapshots/{c}/{Config}", $"snapshots/{c}/{Weights}", $"snapshots/{c}/sub", $"snapshots/{c}/sub/dir", $"snapshots/{c}/{Nested}" }
                .Order(StringComparer.Ordinal),
            Listing(RepoFolder));
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", c, Config), config);
        Assert.Equal(c, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        Assert.Equal($"../../blobs/{configEtag}", new FileInfo(config).LinkTarget);
        Assert.Equal($"../../blobs/{weightsEtag}", new FileInfo(weights).LinkTarget);
        Assert.Equal($"../../../../blobs/{nestedEtag}", new FileInfo(nested).LinkTarget);
        Assert.Equal(_weights, File.ReadAllBytes(weights));
        Assert.Equal("hello", File.ReadAllText(nested));

        var requests = TakeRequests();
        Assert.Equal(["HEAD", "GET", "HEAD", "GET", "HEAD", "GET"], requests.Select(r => r.Method));
        Assert.Equal($"/org/model/resolve/main/{Config}", requests[0].Path);
        Assert.Equal($"/cdn/{weightsEtag}", requests[3].Path); // the LFS redirect target, fetched directly
        Assert.Equal("/org/model/resolve/main/sub/dir/notes.txt", requests[4].Path);
        Assert.All(requests, r => Assert.Equal("identity", r.Headers["accept-encoding"]));
    }

    [Fact]
    public async Task SecondCallIsServedFromCache()
    {
        using (var client = Client()) await client.DownloadAsync("hf-hub:org/model", Weights);
        TakeRequests();

        // Default: one HEAD to learn whether "main" moved, no download.
        using (var client = Client()) await client.DownloadAsync("hf-hub:org/model", Weights);
        Assert.Equal(["HEAD"], TakeRequests().Select(r => r.Method));
        // A pinned commit, or a branch with revalidation off: no request at all.
        using (var client = Client()) await client.DownloadAsync($"hf-hub:org/model@{FakeHubServer.Commit}", Weights);
        using (var client = Client(o => With(o, revalidate: false))) await client.DownloadAsync("hf-hub:org/model", Weights);
        Assert.Empty(TakeRequests());
    }

    [Fact]
    public async Task OfflineModeUsesCacheOnlyAndFailsClearlyWhenMissing()
    {
        using (var client = Client()) await client.DownloadAsync("hf-hub:org/model", Config);
        TakeRequests();
        using var offline = Client(o => With(o, offline: true));
        string path = await offline.DownloadAsync("hf-hub:org/model", Config);
        Assert.Equal("{\"model_cfg\": {}}", File.ReadAllText(path));
        var e = await Assert.ThrowsAsync<HubException>(() => offline.DownloadAsync("hf-hub:org/model", Weights));
        Assert.Contains("offline", e.Message);
        Assert.Contains("models--org--model", e.Message);
        Assert.Empty(TakeRequests());
    }

    [Fact]
    public async Task UnreachableHubFallsBackToCache()
    {
        using (var client = Client()) await client.DownloadAsync("hf-hub:org/model", Config);
        string deadEndpoint;
        using (var dead = new FakeHubServer()) deadEndpoint = dead.Endpoint; // a port nobody listens on any more
        using var client2 = Client(o => With(o, endpoint: deadEndpoint));
        Assert.True(File.Exists(await client2.DownloadAsync("hf-hub:org/model", Config)));
        var e = await Assert.ThrowsAsync<HubException>(() => client2.DownloadAsync("hf-hub:org/model", Weights));
        Assert.Contains("cannot reach the hub", e.Message);
        Assert.Contains(deadEndpoint, e.Message);
    }

    [Fact]
    public async Task HubOutageFallsBackToCacheButRefusalsDoNot()
    {
        using var client = Client();
        await client.DownloadAsync("hf-hub:org/model", Config);
        _server.FailWith = 503;
        Assert.True(File.Exists(await client.DownloadAsync("hf-hub:org/model", Config)));
        var outage = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model", Weights));
        Assert.Equal(503, outage.StatusCode);
        _server.FailWith = 403;
        var refused = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model", Config));
        Assert.Contains("access denied", refused.Message);
    }

    [Fact]
    public async Task ResumesBrokenTransferOnNextCall()
    {
        _server.DropConnections(times: 1, bytes: 100_000);
        using var client = Client(o => With(o, resumes: 0));
        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model", Weights));
        Assert.Contains("transfer broke after 100000 of 300000 bytes", e.Message);
        string incomplete = Path.Combine(RepoFolder, "blobs", _server.EtagOf(Weights) + ".incomplete");
        Assert.Equal(100_000, new FileInfo(incomplete).Length);
        TakeRequests();

        string path = await client.DownloadAsync("hf-hub:org/model", Weights);
        Assert.Equal(_weights, File.ReadAllBytes(path));
        Assert.False(File.Exists(incomplete));
        var get = Assert.Single(TakeRequests(), r => r.Method == "GET");
        Assert.Equal("bytes=100000-", get.Headers["range"]);
    }

    [Fact]
    public async Task ResumesWithinOneCallAndReportsProgress()
    {
        _server.DropConnections(times: 2, bytes: 70_000);
        var reports = new List<HubDownloadProgress>();
        using var client = Client();
        string path = await client.DownloadAsync("hf-hub:org/model", Weights, new SyncProgress(reports.Add));
        Assert.Equal(_weights, File.ReadAllBytes(path));
        Assert.Equal(["bytes=70000-", "bytes=140000-"], TakeRequests().Where(r => r.Method == "GET").Skip(1).Select(r => r.Headers["range"]));
        Assert.All(reports, r => Assert.Equal(300_000, r.TotalBytes));
        Assert.Equal(300_000, reports[^1].BytesDownloaded);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second.BytesDownloaded >= p.First.BytesDownloaded));
    }

    [Fact]
    public async Task StalledTransferIsResumed()
    {
        _server.DropConnections(times: 1, bytes: 50_000, stallFirst: true);
        using var client = new HubClient(new HubOptions
        {
            Endpoint = _server.Endpoint, CacheDirectory = Cache, RequestTimeout = TimeSpan.FromSeconds(1), MaxResumeAttempts = 1,
        });
        Assert.Equal(_weights, File.ReadAllBytes(await client.DownloadAsync("hf-hub:org/model", Weights)));
        Assert.Equal("bytes=50000-", TakeRequests().Where(r => r.Method == "GET").Last().Headers["range"]);
    }

    [Theory]
    [InlineData(Weights)]
    [InlineData(Config)]
    public async Task DetectsSizeMismatchAndKeepsNothing(string file)
    {
        _server.SizeLie = 10;
        using var client = Client();
        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model", file));
        Assert.Contains("size mismatch", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs")));
        Assert.False(Directory.Exists(Path.Combine(RepoFolder, "snapshots")));
    }

    [Fact]
    public async Task DetectsChecksumMismatch()
    {
        _server.CorruptLfs = true;
        using var client = Client();
        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model", Weights));
        Assert.Contains("checksum mismatch", e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder, "blobs")));
    }

    [Fact]
    public async Task SendsTokenToHubButNotToCdn()
    {
        _server.RequiredToken = "secret";
        using (var anonymous = Client())
        {
            var e = await Assert.ThrowsAsync<HubException>(() => anonymous.DownloadAsync("hf-hub:org/model", Weights));
            Assert.Equal(401, e.StatusCode);
            Assert.Contains("HF_TOKEN", e.Message);
        }
        TakeRequests();
        using var client = Client(o => With(o, token: "secret"));
        Assert.Equal(_weights, File.ReadAllBytes(await client.DownloadAsync("hf-hub:org/model", Weights)));
        var requests = TakeRequests();
        Assert.Equal("Bearer secret", requests.Single(r => r.Method == "HEAD").Headers["authorization"]);
        Assert.False(requests.Single(r => r.Path.StartsWith("/cdn/")).Headers.ContainsKey("authorization"));
    }

    [Fact]
    public async Task ReportsMissingFileAndRevision()
    {
        using var client = Client();
        var missing = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model", "absent.bin"));
        Assert.Equal(404, missing.StatusCode);
        Assert.Contains("file not found", missing.Message);
        Assert.Contains("/org/model/resolve/main/absent.bin", missing.Message);
        var revision = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model@v9", Config));
        Assert.Contains("revision not found", revision.Message);
    }

    [Fact]
    public async Task FollowsRelativeRedirectOfRenamedRepository()
    {
        _server.RenamedFrom = "old/name";
        using var client = Client();
        string path = await client.DownloadAsync("hf-hub:old/name", Config);
        Assert.StartsWith(Path.Combine(Cache, "models--old--name", "snapshots"), path);
        Assert.Contains(TakeRequests(), r => r.Path == $"/org/model/resolve/main/{Config}");
    }

    [Fact]
    public async Task CopiesWhenSymlinksAreOff()
    {
        using var client = Client(o => With(o, symlinks: false));
        string path = await client.DownloadAsync("hf-hub:org/model", Weights);
        Assert.Null(new FileInfo(path).LinkTarget);
        Assert.Equal(_weights, File.ReadAllBytes(path));
        Assert.True(File.Exists(Path.Combine(RepoFolder, "blobs", _server.EtagOf(Weights))));
    }

    [Fact]
    public async Task RefusesEtagThatWouldEscapeTheCache()
    {
        _server.EtagOverride = "../../../escape";
        using var client = Client();
        var e = await Assert.ThrowsAsync<HubException>(() => client.DownloadAsync("hf-hub:org/model", Config));
        Assert.Contains("not a plain identifier", e.Message);
        Assert.False(File.Exists(_temp.Path("escape")));
    }

    [Fact]
    public async Task ConcurrentDownloadsOfOneFileShareOneBlob()
    {
        using var client = Client();
        var paths = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.DownloadAsync("hf-hub:org/model", Weights)));
        Assert.Single(paths.Distinct());
        Assert.Equal(_weights, File.ReadAllBytes(paths[0]));
        Assert.Single(TakeRequests(), r => r.Method == "GET");
    }

    private sealed class SyncProgress(Action<HubDownloadProgress> report) : IProgress<HubDownloadProgress>
    {
        public void Report(HubDownloadProgress value) => report(value);
    }
}
