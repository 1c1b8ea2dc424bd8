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
