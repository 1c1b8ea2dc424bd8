using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using OpenVision.Backends;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Onnx.Graph;
using OpenVision.Onnx.Runtime;
using OpenVision.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx;

/// <summary>The ONNX Runtime backend: the model runs from an export folder (<see cref="OnnxExporter"/>). Its graphs give
/// pooled features and, when exported with them, last-block patch tokens; never other blocks' outputs.</summary>
public sealed class OnnxBackend : IEncoderBackend
{
    private readonly OnnxTower vision, text;
    private readonly string? ownedFolder;

    private OnnxBackend(string folder, OnnxManifest manifest, OnnxRuntimeOptions options, string? ownedFolder)
    {
        Folder = folder;
        Manifest = manifest;
        Options = options;
        this.ownedFolder = ownedFolder;
        string configPath = Path.Combine(folder, manifest.ConfigFile);
        Config = ConfigJson.Load(configPath, manifest.Model);
        Tokenizer = OpenVisionTokenizer.FromVocabFile(Path.Combine(folder, manifest.Tokenizer.VocabFile), manifest.Tokenizer.ContextLength);
        ImageSize = manifest.Preprocess.ImageSize;
        var files = manifest.FilesFor(options.Precision);
        string visionPath = Path.Combine(folder, files.Vision);
        // An owned folder holds a randomly initialised model: no weights to name.
        Source = new ModelSource(folder, configPath, ownedFolder is null ? visionPath : null);
        vision = new OnnxTower(visionPath, options);
        try { text = new OnnxTower(Path.Combine(folder, files.Text), options); }
        catch { vision.Dispose(); throw; }
    }

    /// <summary>Opens an export folder (the one <see cref="OnnxExporter.Export"/> wrote).</summary>
    /// <param name="folder">Folder with <c>manifest.json</c>.</param>
    /// <param name="options">Threads and the precision to load.</param>
    public static OnnxBackend Load(string folder, OnnxRuntimeOptions? options = null) =>
        new(folder, OnnxManifest.Load(folder), options ?? new OnnxRuntimeOptions(), null);

    /// <summary>An encoder on an export folder, with the tokenizer vocabulary the export ships.</summary>
    /// <param name="folder">Folder with <c>manifest.json</c>.</param>
    /// <param name="options">Threads and the precision to load.</param>
    public static OpenVisionEncoder LoadEncoder(string folder, OnnxRuntimeOptions? options = null) => ToEncoder(Load(folder, options));

    /// <summary>Opens an export folder that the backend deletes when disposed (exports of randomly initialised models).</summary>
    internal static OnnxBackend LoadOwned(string folder, OnnxRuntimeOptions? options) =>
        new(folder, OnnxManifest.Load(folder), options ?? new OnnxRuntimeOptions(), folder);

    /// <summary>Puts the encoder on top of a backend, with the export's tokenizer; the encoder takes ownership.</summary>
    internal static OpenVisionEncoder ToEncoder(OnnxBackend backend)
    {
        try { return new OpenVisionEncoder(backend, backend.Tokenizer); }
        catch { backend.Dispose(); throw; }
    }

    /// <summary>The export folder.</summary>
    public string Folder { get; }

    /// <summary>The export's manifest.</summary>
    public OnnxManifest Manifest { get; }

    /// <summary>The session settings in use.</summary>
    public OnnxRuntimeOptions Options { get; }

    /// <summary>The tokenizer the export ships (its vocabulary file and context length).</summary>
    public OpenVisionTokenizer Tokenizer { get; }

    /// <inheritdoc/>
    public ModelConfig Config { get; }

    /// <inheritdoc/>
    public ModelSource Source { get; }

    /// <inheritdoc/>
    public int ImageSize { get; }

    /// <inheritdoc/>
    public double LogitScale => Manifest.LogitScale;

    /// <inheritdoc/>
    public bool HasTextTower => true;

    /// <inheritdoc/>
    public DetailedImageOutputs DetailedOutputs =>
        vision.OutputNames.Contains(VisionGraph.TokensName) ? DetailedImageOutputs.PatchTokens : DetailedImageOutputs.None;

    /// <inheritdoc/>
    public ScalarType PixelDType => ScalarType.Float32;

    /// <inheritdoc/>
    public string? FeatureIdentity
    {
        get
        {
            if (ownedFolder is not null) return null;
            var manifest = new FileInfo(Path.Combine(Folder, OnnxManifest.FileName));
            return $"onnx|{Path.GetFullPath(Folder)}|{manifest.Length}|{manifest.LastWriteTimeUtc.Ticks}|{Options.Precision}";
        }
    }

    /// <inheritdoc/>
    public Tensor EncodeImage(Tensor pixels, bool normalize) => RunVision(pixels, normalize, tokens: false).Features;

    /// <inheritdoc/>
    public ImageEncoding EncodeImageDetailed(Tensor pixels, IReadOnlyList<int> layers, bool normalize)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count > 0) throw BlockOutputsUnsupported();
        if (!DetailedOutputs.HasFlag(DetailedImageOutputs.PatchTokens))
            throw new NotSupportedException($"{Folder}: the vision graph has no image_tokens output; export with image tokens (--tokens)");
        var (features, tokens) = RunVision(pixels, normalize, tokens: true);
        return new ImageEncoding(features, tokens!, new Dictionary<int, Tensor>());
    }

    /// <inheritdoc/>
    public int ResolveLayer(int layer) => throw BlockOutputsUnsupported();

    private NotSupportedException BlockOutputsUnsupported() =>
        new($"{Folder}: the ONNX graphs output features and patch tokens only, not block outputs (use the TorchSharp backend, --backend torch)");

    /// <summary>Image features [N, E] for normalized pixels given as a flat array [count, 3, S, S], without TorchSharp.</summary>
    public float[] EncodePixels(float[] pixels, int count, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (count < 1 || pixels.LongLength != (long)count * 3 * ImageSize * ImageSize)
            throw new ArgumentException($"{pixels.Length} floats are not {count} images of 3×{ImageSize}×{ImageSize}");
        var (data, _) = vision.Run(pixels, [count, 3, ImageSize, ImageSize], [VisionGraph.FeaturesName])[0];
        if (normalize) Normalize(data, Manifest.EmbedDim);
        return data;
    }

    /// <inheritdoc/>
    public Tensor EncodeText(Tensor tokenIds, bool normalize)
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
