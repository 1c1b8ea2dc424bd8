using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenVision.Vision;

namespace OpenVision.Serving;

/// <summary>The embedding service: ASP.NET minimal API on Kestrel, <c>POST /embed/text</c>, <c>POST /embed/image</c>,
/// <c>POST /classify</c>, <c>GET /health</c> and a small page at <c>/</c>; concurrent requests share model calls.</summary>
public sealed class EmbeddingServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly DynamicBatcher<string> texts;
    private readonly DynamicBatcher<DecodedImage> images;

    private EmbeddingServer(WebApplication app, DynamicBatcher<string> texts, DynamicBatcher<DecodedImage> images, Uri address)
    {
        this.app = app;
        this.texts = texts;
        this.images = images;
        Address = address;
    }

    /// <summary>Where the server listens (with the actual port when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>Completes when the server stops.</summary>
    public Task Completion => app.WaitForShutdownAsync();

    /// <summary>Starts serving <paramref name="encoder"/> (which must outlive the server).</summary>
    public static async Task<EmbeddingServer> StartAsync(OpenVisionEncoder encoder, ServeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        options ??= new ServeOptions();
        if (!IPAddress.TryParse(options.Host, out var ip)) throw new ArgumentException($"--host must be an IP address, not '{options.Host}'");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();                                       // the library writes nothing to the console
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(ip, options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        var app = builder.Build();
        // Raw features from the batchers; handlers normalise per request, so requests with either setting share calls.
        var textBatcher = new DynamicBatcher<string>(batch => Rows(encoder.EncodeTexts(batch, normalize: false)), options);
        var imageBatcher = new DynamicBatcher<DecodedImage>(batch => Rows(encoder.EncodeImages(batch, normalize: false)), options);
        new EmbeddingEndpoints(encoder, options, textBatcher, imageBatcher).Map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EmbeddingServer(app, textBatcher, imageBatcher, new Uri(bound));
    }

    private static float[][] Rows(TorchSharp.torch.Tensor features)
    {
        using (features)
        {
            var data = features.data<float>().ToArray();
            int width = (int)features.shape[1];
            return Enumerable.Range(0, (int)features.shape[0]).Select(i => data[(i * width)..((i + 1) * width)]).ToArray();
        }
    }

    /// <summary>Stops accepting requests, finishes the ones in flight and stops the batchers.</summary>
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        await texts.DisposeAsync().ConfigureAwait(false);
        await images.DisposeAsync().ConfigureAwait(false);
    }
}
