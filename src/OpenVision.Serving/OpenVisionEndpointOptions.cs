namespace OpenVision.Serving;

/// <summary>Settings of the OpenVision endpoints wherever they are hosted: dynamic batching, request limits and the API key.</summary>
public record OpenVisionEndpointOptions
{
    /// <summary>Gather items of concurrent requests into one model call; off, calls never mix requests.</summary>
    public bool DynamicBatching { get; init; } = true;

    /// <summary>Largest model call (items), batching or not: a request of more items runs as several calls, in order.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>How long a batch, once the model is free, waits for more items. Zero (the default): a batch is what
    /// queued while the previous call ran, so a lone request never waits and a busy server still fills its calls
    /// (Tiny/16-224 on 2 cores, one client: a 5 ms window cost about 10 ms of p50 latency; docs/speed.md). At most 1 s.</summary>
    public TimeSpan BatchDelay { get; init; } = TimeSpan.Zero;

    /// <summary>Largest request body in bytes (413 above it).</summary>
    public long MaxRequestBytes { get; init; } = 32L << 20;

    /// <summary>Most images in one request.</summary>
    public int MaxImagesPerRequest { get; init; } = 64;

    /// <summary>Most texts (or labels × templates) in one request.</summary>
    public int MaxTextsPerRequest { get; init; } = 1024;

    /// <summary>Largest decoded image, in pixels (width × height); larger ones are refused before decoding.</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    /// <summary>When set, every route but <c>GET /health</c> and the page at <c>/</c> requires <c>Authorization: Bearer</c>
    /// with this key (401 otherwise); null serves everyone who can reach the address.</summary>
    public string? ApiKey { get; init; }

    /// <summary>An image index to serve <c>POST /v1/search</c> from (the caller owns it); it must have been built with
    /// the served model. Null: search answers that no index is loaded.</summary>
    public OpenVision.Search.ImageIndex? SearchIndex { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public virtual void Validate()
    {
        if (MaxBatchSize < 1) throw new ArgumentException($"the largest batch must be at least 1 item, not {MaxBatchSize}");
        if (BatchDelay < TimeSpan.Zero || BatchDelay > TimeSpan.FromSeconds(1))
            throw new ArgumentException($"the batch delay must be 0 to 1000 ms, not {BatchDelay.TotalMilliseconds:G} ms");
        if (MaxRequestBytes < 1) throw new ArgumentException($"the largest request body must be at least 1 byte, not {MaxRequestBytes}");
        if (MaxImagesPerRequest < 1 || MaxTextsPerRequest < 1) throw new ArgumentException("requests must be allowed at least one image and one text");
        if (MaxImagePixels < 1) throw new ArgumentException($"the pixel cap must be at least 1, not {MaxImagePixels}");
        if (ApiKey is not null && string.IsNullOrWhiteSpace(ApiKey)) throw new ArgumentException("the API key must not be empty or blank");
    }
}
