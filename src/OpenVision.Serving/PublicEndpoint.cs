namespace OpenVision.Serving;

/// <summary>Endpoint metadata: the route answers without an API key (<c>/health</c> for probes, and the page at
/// <c>/</c>, which is static HTML that sends the key with its own calls).</summary>
internal sealed class PublicEndpoint
{
    public static readonly PublicEndpoint Instance = new();
}
