using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OpenVision.Serving;

/// <summary>Hosts the OpenVision endpoints in any ASP.NET Core app: <c>app.MapOpenVision(encoder)</c>, or under a prefix
/// with <c>app.MapGroup("/vision").MapOpenVision(encoder)</c>.</summary>
public static class OpenVisionEndpointRouteBuilderExtensions
{
    /// <summary>Maps <c>GET /</c>, <c>GET /health</c>, <c>POST /embed/text</c>, <c>/embed/image</c> and <c>/classify</c>.
    /// Each answers errors as JSON with a request id, checks <see cref="OpenVisionEndpointOptions.ApiKey"/> and logs one
    /// line per request through the app's <see cref="ILoggerFactory"/> (category <c>OpenVision.Serving</c>). The routes'
    /// batchers stop when the app has stopped, after its requests in flight have been answered.</summary>
    /// <param name="endpoints">The app or a route group.</param>
    /// <param name="encoder">The model to serve; it must outlive the app.</param>
    /// <param name="options">Batching, limits and the API key; defaults when null.</param>
    /// <returns>The group holding the routes, for the host's own conventions (authorization policies, rate limits).</returns>
    public static RouteGroupBuilder MapOpenVision(this IEndpointRouteBuilder endpoints, OpenVisionEncoder encoder, OpenVisionEndpointOptions? options = null) =>
        Map(endpoints, encoder, options).Group;

    /// <summary><see cref="MapOpenVision"/>, also giving the batchers every route shares (for the server's tests).</summary>
    internal static (RouteGroupBuilder Group, ModelBatchers Model) Map(IEndpointRouteBuilder endpoints, OpenVisionEncoder encoder, OpenVisionEndpointOptions? options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(encoder);
        options ??= new OpenVisionEndpointOptions();
        options.Validate();
        var logger = endpoints.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger("OpenVision.Serving") ?? NullLogger.Instance;
        var lifetime = endpoints.ServiceProvider.GetService<IHostApplicationLifetime>();
        var model = new ModelBatchers(encoder, options);
        // Stopped, not stopping: the host has answered (or, past its shutdown timeout, aborted) every request by then.
        // What the queue dropped from then on was work of requests the shutdown cut: worth a line for the operator.
        long droppedBefore = 0;
        lifetime?.ApplicationStopping.Register(() => droppedBefore = model.Dropped);
        lifetime?.ApplicationStopped.Register(() =>
        {
            model.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (model.Dropped - droppedBefore is > 0 and var dropped)
                logger.LogWarning("the model queue stopped: {Items} queued items of requests whose connections closed during the shutdown were dropped without running the model", dropped);
        });
        var routes = new EmbeddingEndpoints(encoder, options, new RequestPipeline(options, logger, lifetime?.ApplicationStopping ?? CancellationToken.None), model);
        var group = endpoints.MapGroup("");
        group.AddEndpointFilter(routes.Pipeline.InvokeAsync);
        routes.Map(group);
        OpenAi.OpenAiRoutes.Map(group, encoder, options, model);
        return (group, model);
    }
}
