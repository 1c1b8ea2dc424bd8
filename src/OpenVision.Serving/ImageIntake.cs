using OpenVision.Vision;

namespace OpenVision.Serving;

/// <summary>Turns a request's images into model-size pixels one at a time: each is decoded at full size, resized and
/// normalized to [3, S, S] floats, and dropped before the next is decoded, so a request holds at most one full-size
/// image however many it sends (64 images of 36 MP held at once were about 7 GB). At most
/// <c>concurrency</c> full-size decodes run at once across all requests of the routes, so concurrent requests cannot
/// multiply that either: one waits for a slot (or for its client to leave).</summary>
internal sealed class ImageIntake
{
    // 16 MP: 48 MB or more of pixels, plus the decoder's own buffers of about that size.
    private const long CollectAfterPixels = 16_000_000;

    private readonly ImageTransform transform;
    private readonly SemaphoreSlim slots;
    private long livePixels, peakLivePixels;

    public ImageIntake(ImageTransform transform, long maxImagePixels, int concurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        this.transform = transform;
        slots = new SemaphoreSlim(concurrency, concurrency);
        Decoder = new ImageDecoderOptions { MaxPixels = maxImagePixels };
    }

    /// <summary>The decoder settings requests' images are read with (the per-image pixel cap).</summary>
    public ImageDecoderOptions Decoder { get; }

    /// <summary>Pixels (width × height) of the full-size images decoded and not yet reduced to model size, now.</summary>
    public long LivePixels => Interlocked.Read(ref livePixels);

    /// <summary>The most <see cref="LivePixels"/> has been since the routes started: what bounds their decoding memory
    /// (about 3 to 4 bytes per pixel).</summary>
    public long PeakLivePixels => Interlocked.Read(ref peakLivePixels);

    /// <summary>Model-size pixels of <paramref name="count"/> images, in order; <paramref name="decode"/> decodes image
    /// i (its errors, such as a 400 for bad base64, pass through) and is called only once a slot is free.</summary>
    public async Task<float[][]> PrepareAsync(int count, Func<int, DecodedImage> decode, CancellationToken cancellationToken)
    {
        var result = new float[count][];
        for (int i = 0; i < count; i++)
        {
            int index = i;
            result[i] = await PrepareAsync(() => decode(index), cancellationToken).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>Model-size pixels of the one image <paramref name="decode"/> gives, decoded in a slot.</summary>
    public async Task<float[]> PrepareAsync(Func<DecodedImage> decode, CancellationToken cancellationToken)
    {
        float[] result;
        long pixels;
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var image = decode();
            pixels = (long)image.Width * image.Height;
            long now = Interlocked.Add(ref livePixels, pixels);
            for (long peak = PeakLivePixels; now > peak; peak = PeakLivePixels)
                if (Interlocked.CompareExchange(ref peakLivePixels, now, peak) == peak) break;
            try { result = transform.ToChw(image); }
            finally { Interlocked.Add(ref livePixels, -pixels); }     // the full-size image is garbage from here on
        }
        finally
        {
            slots.Release();
        }
        // A huge image's arrays are large-object-heap garbage now, which the GC would otherwise leave until its
        // budget runs out: several such images' worth on top of the one held. Collecting here keeps a request's
        // memory near one image; against a decode of tens of megapixels (a second or so) it costs little.
        if (pixels >= CollectAfterPixels) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
        return result;
    }
}
