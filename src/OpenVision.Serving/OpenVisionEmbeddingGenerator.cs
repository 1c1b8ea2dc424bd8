using Microsoft.Extensions.AI;
using OpenVision.Vision;

namespace OpenVision.Serving;

/// <summary>Microsoft.Extensions.AI embedding generators over an OpenVision model: texts (<c>string</c>) and images
/// (<see cref="DataContent"/> holding encoded image bytes) map into the same space, so one vector store can hold
/// both and be searched with either (Semantic Kernel, vector store connectors).</summary>
public sealed class OpenVisionEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>, IEmbeddingGenerator<DataContent, Embedding<float>>
{
    private readonly OpenVisionEncoder encoder;
    private readonly bool ownsEncoder;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly EmbeddingGeneratorMetadata metadata;

    /// <summary>Wraps an encoder (TorchSharp or ONNX Runtime).</summary>
    /// <param name="encoder">The model to run.</param>
    /// <param name="ownsEncoder">Dispose the encoder with the generator.</param>
    public OpenVisionEmbeddingGenerator(OpenVisionEncoder encoder, bool ownsEncoder = false)
    {
        this.encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        this.ownsEncoder = ownsEncoder;
        metadata = new EmbeddingGeneratorMetadata("openvision", null, encoder.Config.Name, encoder.Config.EmbedDim);
    }

    /// <summary>Embedding width.</summary>
    public int Dimensions => encoder.Config.EmbedDim;

    /// <summary>L2-normalized text embeddings, one per input, in order.</summary>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values.ToList();
        return await Run(() => encoder.EncodeTexts(texts), texts.Count, cancellationToken);
    }

    /// <summary>L2-normalized image embeddings for encoded images (PNG, JPEG, WebP, GIF, BMP bytes), one per input, in order.</summary>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<DataContent> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var images = values.Select((content, i) =>
        {
            if (content.MediaType is { } type && !type.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"input {i} has media type '{type}', not an image");
            return ImageDecoder.Decode(content.Data.Span, content.Name ?? $"input {i}");
        }).ToList();
        return await Run(() => encoder.EncodeImages(images), images.Count, cancellationToken);
    }

    // One model call at a time: TorchSharp models are not made for concurrent callers; ONNX Runtime would be, but
    // serialising keeps the machine's cores for one call's intra-op threads either way.
    private async Task<GeneratedEmbeddings<Embedding<float>>> Run(Func<TorchSharp.torch.Tensor> encode, int count, CancellationToken cancellationToken)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>();
        if (count == 0) return result;
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        float[] data;
        try
        {
            using var features = await Task.Run(encode, cancellationToken).ConfigureAwait(false);
            data = features.data<float>().ToArray();
        }
        finally { gate.Release(); }
        int width = Dimensions;
        var created = DateTimeOffset.UtcNow;
        for (int i = 0; i < count; i++)
            result.Add(new Embedding<float>(data.AsMemory(i * width, width)) { ModelId = encoder.Config.Name, CreatedAt = created });
        return result;
    }

    /// <summary>Returns the metadata, the encoder or this generator when asked for their types.</summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return metadata;
        if (serviceType.IsInstanceOfType(encoder)) return encoder;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (ownsEncoder) encoder.Dispose();
        gate.Dispose();
    }
}
