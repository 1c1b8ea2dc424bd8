using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OpenVision.Serving;

/// <summary>The stand-alone embedding service: the <see cref="OpenVisionEndpointRouteBuilderExtensions.MapOpenVision"/>
/// routes on Kestrel, with JSON 404 and 405 answers for everything else; concurrent requests share model calls.</summary>
public sealed class EmbeddingServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly Lazy<Task> stop;

    private EmbeddingServer(WebApplication app, Uri address, ModelBatchers model)
    {
        this.app = app;
        Address = address;
        Model = model;
        stop = new Lazy<Task>(() => app.StopAsync());
        Completion = StopWhenAskedAsync(app.Services.GetRequiredService<IHostApplicationLifetime>());
    }

    /// <summary>Where the server listens (with the actual port when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>The batchers and image intake the routes share (tests read their counters).</summary>
    internal ModelBatchers Model { get; }

    /// <summary>Completes once the server has stopped after being asked to (a signal, with
    /// <see cref="ServeOptions.StopOnProcessSignals"/>), having answered its requests in flight or reached
    /// <see cref="ServeOptions.ShutdownTimeout"/>.</summary>
    public Task Completion { get; }

    /// <summary>Starts serving <paramref name="encoder"/> (which must outlive the server), logging nowhere.</summary>
    public static Task<EmbeddingServer> StartAsync(OpenVisionEncoder encoder, ServeOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(encoder, options ?? new ServeOptions(), NullLoggerFactory.Instance, cancellationToken);

    /// <summary>Starts serving <paramref name="encoder"/> (which must outlive the server); requests, warnings and
    /// failures are logged through <paramref name="loggerFactory"/>, which the caller owns.</summary>
    public static async Task<EmbeddingServer> StartAsync(OpenVisionEncoder encoder, ServeOptions options, ILoggerFactory loggerFactory,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options.Validate();
        if (!IPAddress.TryParse(options.Host, out var ip)) throw new ArgumentException($"--host must be an IP address, not '{options.Host}'");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);                   // the caller's logging, or none: never the console by itself
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        if (options.StopOnProcessSignals) builder.Services.Configure<ConsoleLifetimeOptions>(console => console.SuppressStatusMessages = true);
        else builder.Services.AddSingleton<IHostLifetime, ProgrammaticLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(ip, options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
        });
        var app = builder.Build();
        var (group, model) = OpenVisionEndpointRouteBuilderExtensions.Map(app, encoder, options);
        EmbeddingEndpoints.MapNotFound(group);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            if (e is IOException && e.InnerException is AddressInUseException)
                throw new IOException($"cannot listen on {FormatEndpoint(ip, options.Port)}: the address is already in use", e);
            throw;
        }
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        if (!IPAddress.IsLoopback(ip) && options.ApiKey is null)
            loggerFactory.CreateLogger("OpenVision.Serving").LogWarning(
                "listening on {Address} without an API key: anyone who can reach it can use the model (set an API key to require one)", bound);
        return new EmbeddingServer(app, bound, model);
    }

    private static string FormatEndpoint(IPAddress ip, int port) => new IPEndPoint(ip, port).ToString();

    private async Task StopWhenAskedAsync(IHostApplicationLifetime lifetime)
    {
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStopping.Register(() => asked.TrySetResult())) await asked.Task.ConfigureAwait(false);
        await stop.Value.ConfigureAwait(false);
    }

    /// <summary>Stops accepting connections, finishes the requests in flight (up to the shutdown timeout) and stops the batchers.</summary>
    public async ValueTask DisposeAsync()
    {
        await stop.Value.ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
