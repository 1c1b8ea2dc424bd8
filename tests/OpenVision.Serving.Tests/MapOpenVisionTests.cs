using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary>An existing ASP.NET app hosts the endpoints with <c>MapOpenVision</c>: under its own prefix, next to its
/// own routes, on real Kestrel on 127.0.0.1.</summary>
public sealed class MapOpenVisionTests : IAsyncLifetime
{
    private readonly OpenVisionEncoder encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(ServerFixture.Model));
    private WebApplication app = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        app = builder.Build();
        app.MapGet("/hello", () => "the host's own route");
        app.MapGroup("/vision").MapOpenVision(encoder, new OpenVisionEndpointOptions { MaxImagesPerRequest = 2 });
        // A host's own filter that fails: the endpoints' error handling turns it into a 500 JSON without its details.
        app.MapGroup("/broken").MapOpenVision(encoder).AddEndpointFilter((_, _) => throw new InvalidOperationException($"boom in {AppContext.BaseDirectory}"));
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        client = new HttpClient { BaseAddress = new Uri(address) };
    }

    [Fact]
    public async Task TheEndpointsAnswerUnderTheHostsPrefix()
    {
        string[] texts = ["a cat", "a rocket"];
        var response = await client.PostAsJsonAsync("vision/embed/text", new { texts });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var rows = (await response.Content.ReadFromJsonAsync<EmbeddingResponse>())!.Embeddings;
        using var expected = encoder.EncodeTexts(texts);
        using var got = TorchSharp.torch.tensor(rows.SelectMany(r => r).ToArray(), expected.shape);
        // Float32 throughout; the server normalises its own copy of the raw features, so agreement is to rounding.
        Assert.True(Tolerance.RelativeError(got, expected) <= Tolerance.Float32, $"relative error {Tolerance.RelativeError(got, expected):E3}");

        Assert.Equal("ok", (await client.GetFromJsonAsync<HealthResponse>("vision/health"))!.Status);
        Assert.Equal("the host's own route", await client.GetStringAsync("hello"));
        await ErrorAssert.IsJsonError(await client.PostAsJsonAsync("vision/embed/image", new { images = new[] { "AA==", "AA==", "AA==" } }), 400, "too_many_items");
        // The host keeps its own 404s: the endpoints claim only their routes.
        var hostNotFound = await client.GetAsync("elsewhere");
        Assert.Equal(HttpStatusCode.NotFound, hostNotFound.StatusCode);
        Assert.Equal("", await hostNotFound.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUnexpectedFailureIsA500WithAGenericMessageAndTheRequestId()
    {
        var error = await ErrorAssert.IsJsonError(await client.PostAsJsonAsync("broken/embed/text", new { texts = new[] { "a" } }), 500, "internal_error");
        Assert.DoesNotContain("boom", error.Message);
        Assert.Contains(error.RequestId, error.Message);
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        encoder.Dispose();
    }
}
