using System.Net.Http.Json;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary>A real server on 127.0.0.1 (free port) over the TorchSharp encoder of a reference model, shared by a test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string Model = "ovtest-mini-p16-64";

    public OpenVisionEncoder Encoder { get; } = OpenVisionEncoder.Load(ReferenceModels.Folder(Model));

    public EmbeddingServer Server { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await EmbeddingServer.StartAsync(Encoder, new ServeOptions { Port = 0, MaxRequestBytes = 1 << 20, MaxImagesPerRequest = 4 });
        Client = new HttpClient { BaseAddress = Server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        Encoder.Dispose();
    }

    public static string Image(string name) => OpenVision.Tests.ReferenceData.Path("preprocess", "images", name);

    public async Task<HealthResponse> Health() => (await Client.GetFromJsonAsync<HealthResponse>("health"))!;
}
