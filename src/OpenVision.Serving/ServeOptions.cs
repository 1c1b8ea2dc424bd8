namespace OpenVision.Serving;

/// <summary>Settings of the embedding service: address, dynamic batching and request limits.</summary>
public sealed record ServeOptions
{
    /// <summary>Address to listen on; loopback unless told otherwise, so nothing is exposed by accident.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="EmbeddingServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Gather items of concurrent requests into one model call.</summary>
    public bool DynamicBatching { get; init; } = true;

    /// <summary>Largest model call when batching (items).</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>How long the first item of a batch waits for others.</summary>
    public TimeSpan BatchDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Largest request body in bytes (413 above it).</summary>
    public long MaxRequestBytes { get; init; } = 32L << 20;

    /// <summary>Most images in one request.</summary>
    public int MaxImagesPerRequest { get; init; } = 64;

    /// <summary>Most texts (or labels × templates) in one request.</summary>
    public int MaxTextsPerRequest { get; init; } = 1024;

    /// <summary>Largest decoded image, in pixels (width × height); larger ones are refused before decoding.</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;
}
