using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using OpenVision.Vision;

namespace OpenVision.Serving;

/// <summary>The endpoint filter every OpenVision route runs through, wherever it is hosted: a request id (taken from a
/// well-formed <c>X-Request-Id</c> or made, and sent back), the API key check, the body size limit, one log line per
/// request, and every failure answered as an OpenAI-shaped JSON error. <paramref name="stopping"/> is the host's
/// ApplicationStopping: a connection that closes after it fired was (most likely) cut by the shutdown timeout.</summary>
internal sealed class RequestPipeline(OpenVisionEndpointOptions options, ILogger logger, CancellationToken stopping = default)
{
    private const string RequestIdHeader = "X-Request-Id";
    private readonly ApiKeyCheck? key = options.ApiKey is { } k ? new ApiKeyCheck(k) : null;
    private long active;

    /// <summary>Requests being handled now, not counting public routes (a draining server shows them going to zero).</summary>
    public long ActiveRequests => Interlocked.Read(ref active);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        string id = RequestId(context);
        long start = Stopwatch.GetTimestamp();
        string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is { } pattern && !pattern.Contains("{*path}", StringComparison.Ordinal)
            ? pattern : $"(no route) {ApiError.Quote(context.Request.Path.Value)}";
        context.Response.Headers[RequestIdHeader] = id;
        bool cutAtShutdown = false;
        context.Response.OnCompleted(() =>
        {
            // Kestrel itself marks every aborted request 499 by the time this runs, so one the shutdown cut is told here.
            logger.LogInformation("{Method} {Route} {Status} {ElapsedMs} ms request {RequestId}", context.Request.Method, route,
                cutAtShutdown ? 503 : context.Response.StatusCode, Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 1), id);
            return Task.CompletedTask;
        });
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = options.MaxRequestBytes;

        bool isPublic = context.GetEndpoint()?.Metadata.GetMetadata<PublicEndpoint>() is not null;
        if (!isPublic) Interlocked.Increment(ref active);
        try
        {
            if (key is not null && !isPublic && key.Refusal(context.Request.Headers.Authorization) is { } refusal)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return Error(id, 401, refusal.Code, refusal.Message);
            }
            return await next(invocation);
        }
        catch (ApiError e) { return Error(id, e.Status, e.Code, e.Message, e.Param); }
        catch (ImageDecodeException e) { return Error(id, 400, "invalid_image", e.Message); }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own refusals (body over the limit, a body that ends early): their messages name no types.
            return Error(id, e.StatusCode, e.StatusCode == 413 ? "body_too_large" : "bad_request", e.Message);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The connection is gone: nobody reads an answer, so the status is for the log line only. While the host
            // is stopping it was the server that cut it (the shutdown timeout passed), which is not the client's doing:
            // 503 and a line saying so. Otherwise the client left: 499 (nginx's "client closed request").
            if (stopping.IsCancellationRequested)
            {
                logger.LogWarning("request {RequestId} ({Method} {Route}) was cut at shutdown: its connection was closed while the server was stopping, and its model work not yet started was dropped",
                    id, context.Request.Method, route);
                cutAtShutdown = true;
            }
            else if (!context.Response.HasStarted) context.Response.StatusCode = 499;
            return Results.Empty;
        }
        catch (OperationCanceledException)
        {
            // A cancellation the abort flag has not caught up with yet (the shutdown timeout cutting a body read): the
            // request ends, the server is fine, so one line and no stack trace.
            logger.LogWarning("request {RequestId} ({Method} {Route}) was cancelled", id, context.Request.Method, route);
            if (!context.Response.HasStarted) context.Response.StatusCode = 503;
            return Error(id, 503, "cancelled", "the request was cancelled (the server is stopping or the connection closed)");
        }
        catch (Exception e)
        {
            logger.LogError(e, "request {RequestId} ({Method} {Route}) failed", id, context.Request.Method, route);
            return Error(id, 500, "internal_error", $"the server failed while handling this request; its log has the details under request id {id}");
        }
        finally
        {
            if (!isPublic) Interlocked.Decrement(ref active);
        }
    }

    private static IResult Error(string id, int status, string code, string message, string? param = null) =>
        Results.Json(new ErrorResponse(new ErrorDetail(message, ApiError.TypeOf(status), code, param, id)), EmbeddingEndpoints.Json, statusCode: status);

    // A caller's id is kept when it is short and plain (it goes into logs); anything else gets the server's own.
    private static string RequestId(HttpContext context)
    {
        string? given = context.Request.Headers[RequestIdHeader];
        if (given is { Length: > 0 and <= 64 } && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            context.TraceIdentifier = given;
        return context.TraceIdentifier;
    }
}
