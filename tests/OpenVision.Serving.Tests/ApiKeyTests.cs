using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary>With an API key every route but <c>/health</c> and the page needs <c>Authorization: Bearer KEY</c>:
/// in-process, and through the CLI's environment variable with its request log.</summary>
public class ApiKeyTests
{
    private const string Key = "s3cret-key-for-tests";

    [Fact]
    public async Task OnlyTheRightBearerKeyIsServed()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(ServerFixture.Model));
        await using var server = await EmbeddingServer.StartAsync(encoder, new ServeOptions { Port = 0, ApiKey = Key });
        using var client = new HttpClient { BaseAddress = server.Address };

        var health = await client.GetFromJsonAsync<HealthResponse>("health");        // probes need no key
        Assert.True(health!.AuthRequired);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);     // the static page neither
        foreach (var open in new[] { "health", "/" })                                   // nor a HEAD probe of either
        {
            var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, open));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "v1/models"))).StatusCode);   // a keyed route needs the key

        foreach (var (header, code) in new (string?, string)[]
                 {
                     (null, "missing_api_key"), ("Basic czNjcmV0", "invalid_authorization"), ("Bearer " + Key[..^1], "invalid_api_key"),
                     ("Bearer " + Key + "x", "invalid_api_key"), ("Bearer ", "invalid_authorization"),   // header values are trimmed: no key at all
                 })
        {
            var response = await client.SendAsync(Request(header));
            await ErrorAssert.IsJsonError(response, 401, code);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.DoesNotContain(Key, await response.Content.ReadAsStringAsync());
        }
        await ErrorAssert.IsJsonError(await client.GetAsync("unknown"), 401);          // unknown routes are not a way to probe

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Request("Bearer " + Key))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Request("bearer " + Key))).StatusCode);   // the scheme is case-insensitive
    }

    [Fact]
    public async Task TheCliTakesTheKeyFromTheEnvironmentAndLogsEveryRequest()
    {
        await using var server = await ServeProcess.StartAsync([], new Dictionary<string, string> { ["OPENVISION_API_KEY"] = Key });
        using var client = new HttpClient { BaseAddress = server.Address };
        var refused = await client.SendAsync(Request(null));
        var refusedId = (await ErrorAssert.IsJsonError(refused, 401, "missing_api_key")).RequestId;
        var served = await client.SendAsync(Request("Bearer " + Key));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        string servedId = Assert.Single(served.Headers.GetValues("X-Request-Id"));

        server.Signal("TERM");
        Assert.Equal(0, await server.ExitCodeAsync());
        var log = server.Stderr.Split('\n');
        Assert.Contains(log, l => l.Contains("POST /embed/text 401", StringComparison.Ordinal) && l.Contains(refusedId, StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("POST /embed/text 200", StringComparison.Ordinal) && l.Contains(servedId, StringComparison.Ordinal) && l.Contains(" ms ", StringComparison.Ordinal));
        Assert.DoesNotContain(Key, server.Stderr);
        Assert.DoesNotContain("without an API key", server.Stderr);
    }

    private static HttpRequestMessage Request(string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "embed/text") { Content = JsonContent.Create(new { texts = new[] { "a key-holder's text" } }) };
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return request;
    }
}
