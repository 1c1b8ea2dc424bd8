using OpenVision.Vision;
using TorchSharp;

namespace OpenVision.Serving;

/// <summary>The model calls of every route mapped together (the <c>/embed</c> routes, <c>/classify</c> and the
/// OpenAI-compatible ones): one text batcher and one image batcher, so requests of all routes share calls, the
/// <c>/health</c> counters count every call, and calls never overlap. The batchers give raw features; callers
/// normalize per request. Images enter as model-size pixels from <see cref="Intake"/>, never as decoded images.</summary>
internal sealed class ModelBatchers : IAsyncDisposable
{
    // The encoder's own image batch: a larger model call runs in parts of this size, as EncodeImages would.
    private const int ImagePart = 32;

    private readonly OpenVisionEncoder encoder;

    public ModelBatchers(OpenVisionEncoder encoder, OpenVisionEndpointOptions options)
    {
        this.encoder = encoder;
        Texts = new DynamicBatcher<string>(batch => Rows(encoder.EncodeTexts(batch, normalize: false)), options);
        Images = new DynamicBatcher<float[]>(EncodePixels, options);
        Intake = new ImageIntake(encoder.Transform, options.MaxImagePixels, Environment.ProcessorCount);
    }

    /// <summary>Raw text features, one row per text.</summary>
    public DynamicBatcher<string> Texts { get; }

    /// <summary>Raw image features, one row per [3, S, S] pixel array.</summary>
    public DynamicBatcher<float[]> Images { get; }

    /// <summary>Items of abandoned requests skipped without a model call, both batchers together.</summary>
    public long Dropped => Texts.Dropped + Images.Dropped;

    /// <summary>Where requests' images are decoded and reduced to model size.</summary>
    public ImageIntake Intake { get; }

    /// <summary>The rows scaled to unit L2 norm (new arrays) when <paramref name="normalize"/>, else the rows as they are.</summary>
    public static float[][] Normalize(float[][] rows, bool normalize)
    {
        if (!normalize || rows.Length == 0) return rows;
        // The encoder's own operation on the same float32 rows, so a route gives the bits `EncodeTexts(normalize:
        // true)` gives for the same features, not a second rounding of its own.
        int width = rows[0].Length;
        var data = new float[(long)rows.Length * width];
        for (int i = 0; i < rows.Length; i++) rows[i].CopyTo(data, (long)i * width);
        using var raw = torch.tensor(data, [rows.Length, width]);
        using var unit = torch.nn.functional.normalize(raw, dim: -1);
        var flat = unit.data<float>().ToArray();
        return [.. Enumerable.Range(0, rows.Length).Select(i => flat.AsSpan(i * width, width).ToArray())];
    }

    private float[][] EncodePixels(IReadOnlyList<float[]> images)
    {
        int size = encoder.Transform.Options.ImageSize, length = encoder.Transform.OutputLength;
        var rows = new List<float[]>(images.Count);
        for (int start = 0; start < images.Count; start += ImagePart)
        {
            int count = Math.Min(ImagePart, images.Count - start);
            var data = new float[(long)count * length];
            for (int i = 0; i < count; i++) images[start + i].CopyTo(data, (long)i * length);
            using var pixels = torch.tensor(data, [count, 3, size, size]);
            using var typed = pixels.to(encoder.Backend.PixelDType);
            rows.AddRange(Rows(encoder.EncodePixels(typed, normalize: false)));
        }
        return [.. rows];
    }

    private static float[][] Rows(torch.Tensor features)
    {
        using (features)
        {
            using var cpu = features.to(torch.ScalarType.Float32);
            var data = cpu.data<float>().ToArray();
            int width = (int)features.shape[1];
            return Enumerable.Range(0, (int)features.shape[0]).Select(i => data[(i * width)..((i + 1) * width)]).ToArray();
        }
    }

    /// <summary>Stops the batchers once the host has finished its requests: queued work still runs, new work is refused.</summary>
    public async ValueTask DisposeAsync()
    {
        await Texts.DisposeAsync().ConfigureAwait(false);
        await Images.DisposeAsync().ConfigureAwait(false);
    }
}
