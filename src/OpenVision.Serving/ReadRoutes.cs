using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace OpenVision.Serving;

/// <summary>Routes that only read answer HEAD as well as GET (the same headers, no body; Kestrel drops the body), as
/// load balancers and uptime probes send it: without this a HEAD of a public route such as /health fell through to the
/// fallback, a 405 without a key and a 401 with one.</summary>
internal static class ReadRoutes
{
    private static readonly string[] GetAndHead = ["GET", "HEAD"];

    public static RouteHandlerBuilder MapRead(this IEndpointRouteBuilder group, string pattern, Delegate handler) =>
        group.MapMethods(pattern, GetAndHead, handler);
}
