using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace OpenVision.Serving.Tests;

/// <summary>Real signals to a real <c>openvision serve</c> process: it stops accepting, answers what is in flight
/// (up to <c>--shutdown-timeout</c>) and exits 0 without an exception.</summary>
public class ServeShutdownTests
{
    [Theory]
    [InlineData("TERM", "127.0.0.1")]
    [InlineData("INT", "0.0.0.0")]
    public async Task AnIdleServerExitsZeroOnTheSignal(string signal, string host)
    {
        await using var server = await ServeProcess.StartAsync(["--host", host]);
        server.Signal(signal);
        Assert.Equal(0, await server.ExitCodeAsync());
        server.AssertNoExceptionLogged();
        Assert.Contains("openvision: stopped", server.Stderr);
        // Exposed without a key is worth a warning; loopback is not (the negative control).
        Assert.Equal(host != "127.0.0.1", server.Stderr.Contains("without an API key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestsInFlightAreAnsweredAndNewConnectionsRefusedAfterSigint()
    {
        await using var server = await ServeProcess.StartAsync(["--shutdown-timeout", "600"]);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        var png = File.ReadAllBytes(ServerFixture.Image("chelsea.png"));
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new { images = Enumerable.Repeat(Convert.ToBase64String(png), 16).ToArray() });
        const int requests = 3;
        var release = new TaskCompletionSource();
        var inFlight = Enumerable.Range(0, requests)
            .Select(_ => client.PostAsync("embed/image", new GatedContent(body, "application/json", release.Task).Typed())).ToList();
        await Until(async () => (await Health(server.Address)).ActiveRequests == requests, "the server never had all requests in flight");

        server.Signal("INT");
        await Until(async () => !await Accepts(server.Address), "the server kept accepting connections after SIGINT");
        Assert.False(await Accepts(server.Address), "the listening socket opened again after SIGINT");
        release.SetResult();
        foreach (var response in await Task.WhenAll(inFlight))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(16, (await response.Content.ReadFromJsonAsync<EmbeddingResponse>())!.Embeddings.Length);
        }
        Assert.Equal(0, await server.ExitCodeAsync());
        server.AssertNoExceptionLogged();
        Assert.Equal(requests, server.Stderr.Split('\n').Count(l => l.Contains("POST /embed/image 200", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ARequestThatNeverFinishesIsCutAtTheShutdownTimeout()
    {
        await using var server = await ServeProcess.StartAsync(["--shutdown-timeout", "1"]);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        var never = new TaskCompletionSource();
        var stuck = client.PostAsync("embed/text", new GatedContent("{\"texts\": [\"a never-ending body\"]}"u8.ToArray(), "application/json", never.Task).Typed());
        await Until(async () => (await Health(server.Address)).ActiveRequests == 1, "the request never reached the server");
        server.Signal("TERM");
        Assert.Equal(0, await server.ExitCodeAsync());
        never.SetResult();                                                    // the rest of the body meets a closed connection
        await Assert.ThrowsAnyAsync<Exception>(() => stuck);                  // it was cut, not answered
        server.AssertNoExceptionLogged();
    }

    // --shutdown-timeout bounds the exit: requests still running at the timeout have their connections closed, none of
    // their chunks (--max-batch items each) that has not started runs, so the exit waits for at most the one model call
    // in progress; and the log says the server cut them (503, "cut at shutdown"), not that their clients left (499).
    [Fact]
    public async Task RequestsPastTheShutdownTimeoutAreCutTheirQueuedWorkDroppedAndTheExitBounded()
    {
        const int requests = 16, timeoutSeconds = 1;
        await using var server = await ServeProcess.StartAsync(["--shutdown-timeout", $"{timeoutSeconds}", "--max-batch", "1"]);
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        // One model call of --max-batch items, measured here (the second, warm): what the exit may wait for past the timeout.
        var call = new Stopwatch();
        for (int i = 0; i < 2; i++)
        {
            call.Restart();
            (await client.PostAsJsonAsync("embed/text", new { texts = new[] { "one call" } })).EnsureSuccessStatusCode();
            call.Stop();
        }
        // 16 requests of 1024 texts at one text per call: seconds of queued model work on any machine.
        var texts = Enumerable.Range(0, 1024).Select(i => $"caption number {i} of a test that outlasts the timeout").ToArray();
        var inFlight = Enumerable.Range(0, requests).Select(_ => client.PostAsJsonAsync("embed/text", new { texts })).ToList();
        await Until(async () => await Health(server.Address) is { ActiveRequests: requests, TextItems: > 2 }, "the requests never all reached the model");

        var stopping = Stopwatch.StartNew();
        server.Signal("TERM");
        Assert.Equal(0, await server.ExitCodeAsync());
        stopping.Stop();
        // Generous: process teardown on a loaded machine plus many times one call; the queued work left untouched
        // would be thousands of calls.
        var bound = TimeSpan.FromSeconds(timeoutSeconds + 15) + 50 * call.Elapsed;
        Assert.True(stopping.Elapsed < bound, $"serve exited {stopping.Elapsed.TotalSeconds:F1} s after SIGTERM; the bound is {bound.TotalSeconds:F1} s\n{server.Stderr}");

        int answered = 0;
        foreach (var request in inFlight)
        {
            try { if ((await request).IsSuccessStatusCode) answered++; }
            catch (HttpRequestException) { }                                  // cut: the connection closed
        }
        var lines = server.Stderr.Split('\n');
        int cut = requests - answered;
        Assert.True(cut > 0, $"all {requests} requests were answered before the timeout: the test needs more queued work");
        Assert.Equal(cut, lines.Count(l => l.Contains("POST /embed/text 503", StringComparison.Ordinal)));
        Assert.Equal(cut, lines.Count(l => l.Contains("was cut at shutdown", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains("POST /embed/text 499", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("were dropped without running the model", StringComparison.Ordinal));
        server.AssertNoExceptionLogged();
    }

    private static async Task<HealthResponse> Health(Uri address)
    {
        using var client = new HttpClient { BaseAddress = address };
        return (await client.GetFromJsonAsync<HealthResponse>("health"))!;
    }

    // A fresh TCP connection: refused once the server has closed its listening socket. A connection caught in the
    // kernel's queue while the socket closes is reset rather than refused; either way the server did not take it.
    private static async Task<bool> Accepts(Uri address)
    {
        using var tcp = new TcpClient();
        try { await tcp.ConnectAsync(IPAddress.Loopback, address.Port); return true; }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset) { return false; }
    }

    // Polls a condition of the server's state; the deadline is a hang guard for a loaded machine, not a speed check.
    private static async Task Until(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure);
            await Task.Delay(50);
        }
    }
}
