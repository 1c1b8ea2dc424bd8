using System.Net.Http.Json;

namespace OpenVision.Serving.Tests;

/// <summary><c>openvision serve</c> as a user starts it: a child process on a free loopback port.</summary>
public class ServeCliTests
{
    [Fact]
    public async Task ServeStartsAnswersAndStops()
    {
        await using var server = await ServeProcess.StartAsync([]);
        Assert.Equal("127.0.0.1", server.Address.Host);
        using var client = new HttpClient { BaseAddress = server.Address };
        var health = await client.GetFromJsonAsync<HealthResponse>("health");
        Assert.Equal(("ok", false), (health!.Status, health.AuthRequired));
    }
}
