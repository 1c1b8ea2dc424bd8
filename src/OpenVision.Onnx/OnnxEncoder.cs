using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using OpenVision.Configs;
using OpenVision.Onnx.Graph;
using OpenVision.Onnx.Runtime;
using OpenVision.Text;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx;

/// <summary>The ONNX Runtime backend: the operations of <see cref="OpenVisionEncoder"/> run on an export folder
/// (<see cref="OnnxExporter"/>), with the tokenizer and preprocessing its manifest prescribes.</summary>
public sealed class OnnxEncoder : IImageTextEncoder
{
    private readonly OnnxTower vision, text;
    private readonly string? ownedFolder;

    private OnnxEncoder(string folder, OnnxManifest manifest, OnnxRuntimeOptions options, string? ownedFolder)
    {
        Folder = folder;
        Manifest = manifest;
        Options = options;
        this.ownedFolder = ownedFolder;
        Config = ConfigJson.Load(Path.Combine(folder, manifest.ConfigFile), manifest.Model);
        Tokenizer = OpenVisionTokenizer.FromVocabFile(Path.Combine(folder, manifest.Tokenizer.VocabFile), manifest.Tokenizer.ContextLength);
        ImageSize = manifest.Preprocess.ImageSize;
        Transform = new ImageTransform(OpenVisionEncoder.CreateTransformOptions(Config, ImageSize));
        var files = manifest.FilesFor(options.Precision);
        vision = new OnnxTower(Path.Combine(folder, files.Vision), options);
        try { text = new OnnxTower(Path.Combine(folder, files.Text), options); }
        catch { vision.Dispose(); throw; }
    }

    /// <summary>Opens an export folder (the one <see cref="OnnxExporter.Export"/> wrote).</summary>
    /// <param name="folder">Folder with <c>manifest.json</c>.</param>
    /// <param name="options">Threads and the precision to load.</param>
    public static OnnxEncoder Load(string folder, OnnxRuntimeOptions? options = null) =>
        new(folder, OnnxManifest.Load(folder), options ?? new OnnxRuntimeOptions(), null);

    /// <summary>Opens an export folder that the encoder deletes when disposed (exports of randomly initialised models).</summary>
    internal static OnnxEncoder LoadOwned(string folder, OnnxRuntimeOptions? options) =>
        new(folder, OnnxManifest.Load(folder), options ?? new OnnxRuntimeOptions(), folder);

    /// <summary>The export folder.</summary>
    public string Folder { get; }

    /// <summary>The export's manifest.</summary>
    public OnnxManifest Manifest { get; }

    /// <summary>The session settings in use.</summary>
    public OnnxRuntimeOptions Options { get; }

    /// <inheritdoc/>
    public ModelConfig Config { get; }

    /// <inheritdoc/>
    public OpenVisionTokenizer Tokenizer { get; }

    /// <inheritdoc/>
    public ImageTransform Transform { get; }

    /// <inheritdoc/>
    public int ImageSize { get; }

    /// <inheritdoc/>
    public double LogitScale => Manifest.LogitScale;

    /// <summary>Whether the vision graph also outputs patch tokens (exported with <see cref="OnnxExportOptions.ImageTokens"/>).</summary>
    public bool HasImageTokens => vision.OutputNames.Contains(VisionGraph.TokensName);

    /// <inheritdoc/>
    public Tensor EncodePixels(Tensor pixels, bool normalize = true) => RunVision(pixels, normalize, tokens: false).Features;

    /// <summary>Image features [N, E] and last-block patch tokens [N, G, W] (the export must have them).</summary>
    public (Tensor Features, Tensor Tokens) EncodePixelsWithTokens(Tensor pixels, bool normalize = true)
    {
        if (!HasImageTokens) throw new InvalidOperationException($"{Folder}: the vision graph has no image_tokens output; export with image tokens (--tokens)");
        var (features, tokens) = RunVision(pixels, normalize, tokens: true);
        return (features, tokens!);
    }

    /// <summary>Image features [N, E] for normalized pixels given as a flat array [count, 3, S, S], without TorchSharp.</summary>
    public float[] EncodePixels(float[] pixels, int count, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (count < 1 || pixels.LongLength != (long)count * Transform.OutputLength)
            throw new ArgumentException($"{pixels.Length} floats are not {count} images of 3×{ImageSize}×{ImageSize}");
        var (data, _) = vision.Run(pixels, PixelShape(count, ImageSize), [VisionGraph.FeaturesName])[0];
        if (normalize) Normalize(data, Manifest.EmbedDim);
        return data;
    }

    /// <inheritdoc/>
    public Tensor EncodeTokenIds(Tensor tokenIds, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.dtype != ScalarType.Int64) throw new ArgumentException($"token ids must be int64, got {tokenIds.dtype}");
        // Each intermediate disposed here: a Tensor left to the finalizer can be freed while native code reads it.
        using var onCpu = tokenIds.cpu();
        using var ids = onCpu.contiguous();
        var (data, shape) = text.Run(ids.bytes, TensorElementType.Int64, ids.shape, [TextGraph.FeaturesName])[0];
        if (normalize) Normalize(data, Manifest.EmbedDim);
        return torch.tensor(data, shape);
    }

    /// <inheritdoc/>
    public Tensor EncodeTexts(IReadOnlyList<string> texts, bool normalize = true, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(texts);
        for (int i = 0; i < texts.Count; i++)
            if (string.IsNullOrWhiteSpace(texts[i])) throw new ArgumentException($"text {i} is empty; give at least one word");
        var result = new float[texts.Count * Manifest.EmbedDim];
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            var batch = texts.Skip(start).Take(batchSize).ToList();
            var ids = Tokenizer.EncodeBatch(batch);
            var flat = new long[ids.Length];
            Buffer.BlockCopy(ids, 0, flat, 0, ids.Length * sizeof(long));
            var (data, _) = text.Run(flat, [batch.Count, ids.GetLength(1)], [TextGraph.FeaturesName])[0];
            data.CopyTo(result, start * Manifest.EmbedDim);
        }
        if (normalize) Normalize(result, Manifest.EmbedDim);
        return torch.tensor(result, [texts.Count, Manifest.EmbedDim]);
    }

    /// <inheritdoc/>
    public Tensor EncodeImages(IReadOnlyList<DecodedImage> images, bool normalize = true, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(images);
        int length = Transform.OutputLength;
        var result = new float[images.Count * Manifest.EmbedDim];
        for (int start = 0; start < images.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, images.Count - start);
            var pixels = new float[count * length];
            Parallel.For(0, count, i => Transform.ToChw(images[start + i], pixels.AsSpan(i * length, length)));
            EncodePixels(pixels, count, normalize).CopyTo(result, start * Manifest.EmbedDim);
        }
        return torch.tensor(result, [images.Count, Manifest.EmbedDim]);
    }

    /// <inheritdoc/>
    public Tensor EncodeImageFiles(IReadOnlyList<string> paths, bool normalize = true, int batchSize = 32) =>
        EncodeImages(paths.Select(p => ImageDecoder.Decode(p)).ToList(), normalize, batchSize);

    /// <inheritdoc/>
    public ZeroShotClassifier CreateClassifier(IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null, bool canonicalize = false) =>
        ZeroShotClassifier.Create(prompts => EncodeTexts(prompts, normalize: true), LogitScale, classNames, templates, canonicalize);

    private (Tensor Features, Tensor? Tokens) RunVision(Tensor pixels, bool normalize, bool tokens)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.ndim != 4 || pixels.shape[1] != 3 || pixels.shape[2] != pixels.shape[3])
            throw new ArgumentException($"pixels must be [N, 3, S, S], got [{string.Join(", ", pixels.shape)}]");
        using var widened = pixels.to(ScalarType.Float32);   // intermediates disposed, none left to the finalizer
        using var onCpu = widened.cpu();
        using var input = onCpu.contiguous();
        string[] outputs = tokens ? [VisionGraph.FeaturesName, VisionGraph.TokensName] : [VisionGraph.FeaturesName];
        var results = vision.Run(input.bytes, TensorElementType.Float, input.shape, outputs);
        var (features, shape) = results[0];
        if (normalize) Normalize(features, Manifest.EmbedDim);
        return (torch.tensor(features, shape), tokens ? torch.tensor(results[1].Data, results[1].Shape) : null);
    }

    private long[] PixelShape(int count, int size) => [count, 3, size, size];

    // torch.nn.functional.normalize: x / max(‖x‖₂, 1e-12), row by row.
    private static void Normalize(float[] rows, int width)
    {
        for (int start = 0; start < rows.Length; start += width)
        {
            var row = rows.AsSpan(start, width);
            double sum = 0;
            foreach (float v in row) sum += (double)v * v;
            float scale = (float)(1 / Math.Max(Math.Sqrt(sum), 1e-12));
            for (int i = 0; i < row.Length; i++) row[i] *= scale;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        vision.Dispose();
        text.Dispose();
        if (ownedFolder is not null)
        {
            try { Directory.Delete(ownedFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
