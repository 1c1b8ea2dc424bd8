using System.Net;

namespace OpenVision.Serving.Tests;

/// <summary>A request body sent in two parts: the first at once, the rest when <paramref name="gate"/> completes, so a
/// test holds a request in flight on the server for as long as it needs, with no sleeps.</summary>
public sealed class GatedContent(byte[] body, string mediaType, Task gate) : HttpContent
{
    private readonly byte[] body = body;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        int half = body.Length / 2;
        await stream.WriteAsync(body.AsMemory(0, half));
        await stream.FlushAsync();
        await gate;
        await stream.WriteAsync(body.AsMemory(half));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = body.Length;
        return true;
    }

    /// <summary>The content type, set once the instance exists.</summary>
    public GatedContent Typed()
    {
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);
        return this;
    }
}
