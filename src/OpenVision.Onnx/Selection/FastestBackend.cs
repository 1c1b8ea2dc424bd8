using OpenVision.Backends;
using OpenVision.Configs;
using OpenVision.IO;
using OpenVision.Models;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Selection;

/// <summary>Both backends of one model, TorchSharp and ONNX Runtime, and encode_image routed per call to whichever was
/// faster at the nearest measured batch size on this machine (<see cref="Choice"/>: measured on first use, then cached per
/// CPU, model and resolution). Which one wins depends on the machine, the model and the batch: on a 2-core EPYC
/// ONNX Runtime led at batch 1 of Tiny/16-224 and TorchSharp wherever there was work to batch (docs/speed.md). Texts and
/// detailed outputs (patch tokens, block outputs) always run on TorchSharp; features agree to float32 round-off (the
/// export is validated at 1e-4), so mixing batch sizes mixes nothing the caller can see beyond that.</summary>
/// <remarks>Costs: the weights are held twice (the TorchSharp model and the ONNX Runtime sessions), the first use exports the
/// model (cached like <c>--backend onnx</c>) and, without a cached choice, times both backends at
/// <see cref="BackendChoiceMeasurement.DefaultBatchSizes"/> for a few seconds. Only float32 models.</remarks>
public sealed class FastestBackend : IEncoderBackend
{
    private readonly TorchSharpBackend torchBackend;
    private readonly OnnxBackend onnxBackend;

    private FastestBackend(TorchSharpBackend torchBackend, OnnxBackend onnxBackend, BackendChoice choice, bool fromCache)
    {
        this.torchBackend = torchBackend;
        this.onnxBackend = onnxBackend;
        Choice = choice;
        ChoiceFromCache = fromCache;
    }

    /// <summary>Loads the model, opens its ONNX export and measures (or reads from <paramref name="cache"/>) which backend
    /// is faster at each batch size.</summary>
    /// <param name="reference">Built-in name, folder, checkpoint file or hf-hub: id.</param>
    /// <param name="options">Load settings; the dtype must be float32.</param>
    /// <param name="imageSize">Run at this resolution instead of the config's.</param>
    /// <param name="runtime">ONNX Runtime session settings (float32 precision).</param>
    /// <param name="cache">Where choices are kept; null for <see cref="CacheFolder.Default"/>.</param>
    /// <param name="remeasure">Measure again even when the cache has a choice (and replace it).</param>
    /// <param name="progress">Receives the export steps.</param>
    public static FastestBackend Load(string reference, ModelLoadOptions? options = null, int? imageSize = null, OnnxRuntimeOptions? runtime = null,
        BackendChoiceCache? cache = null, bool remeasure = false, IProgress<string>? progress = null)
    {
        options ??= new ModelLoadOptions();
        runtime ??= new OnnxRuntimeOptions();
        if (options.DType != ScalarType.Float32) throw new ArgumentException($"the fastest-backend choice runs float32 models only, not {options.DType}");
        if (runtime.Precision != OnnxPrecision.Float32) throw new ArgumentException($"the fastest-backend choice runs float32 graphs only, not {runtime.Precision}");
        cache ??= new BackendChoiceCache(CacheFolder.Default);
        var torchBackend = TorchSharpBackend.Load(reference, options, imageSize);
        OnnxBackend onnxBackend;
        try
        {
            onnxBackend = OnnxExportCache.OpenBackend(torchBackend.Model, torchBackend.Source, imageSize, runtime, progress);
        }
        catch
        {
            torchBackend.Dispose();
            throw;
        }
        return Create(torchBackend, onnxBackend, cache, remeasure);
    }

    /// <summary>Puts two backends of the same weights together (it takes ownership of both) and reads the choice from
    /// <paramref name="cache"/>, or measures it (<see cref="BackendChoiceMeasurement.Measure"/>) and saves it there.</summary>
    /// <param name="torchBackend">The TorchSharp backend (float32).</param>
    /// <param name="onnxBackend">The ONNX Runtime backend of the same weights and resolution (float32).</param>
    /// <param name="cache">Where choices are kept.</param>
    /// <param name="remeasure">Measure again even when the cache has a choice.</param>
    public static FastestBackend Create(TorchSharpBackend torchBackend, OnnxBackend onnxBackend, BackendChoiceCache cache, bool remeasure = false)
    {
        ArgumentNullException.ThrowIfNull(torchBackend);
        ArgumentNullException.ThrowIfNull(onnxBackend);
        ArgumentNullException.ThrowIfNull(cache);
        try
        {
            if (torchBackend.Model.DType != ScalarType.Float32 || onnxBackend.Options.Precision != OnnxPrecision.Float32)
                throw new ArgumentException($"the fastest-backend choice compares float32 backends, not {torchBackend.Model.DType} and {onnxBackend.Options.Precision}");
            if (torchBackend.ImageSize != onnxBackend.ImageSize || torchBackend.Config.Name != onnxBackend.Config.Name)
                throw new ArgumentException($"the backends run different models ({torchBackend.Config.Name} at {torchBackend.ImageSize} px, " +
                    $"{onnxBackend.Config.Name} at {onnxBackend.ImageSize} px)");
            var cached = remeasure ? null : cache.Load(torchBackend.Config.Name, torchBackend.ImageSize, BackendChoiceMeasurement.CpuIdentity(), Candidates);
            var choice = cached ?? BackendChoiceMeasurement.Measure([(Candidates[0], torchBackend), (Candidates[1], onnxBackend)]);
            if (cached is null) cache.Save(choice);
            return new FastestBackend(torchBackend, onnxBackend, choice, cached is not null);
        }
        catch
        {
            onnxBackend.Dispose();
            torchBackend.Dispose();
            throw;
        }
    }

    /// <summary>Loads as <see cref="Load"/> does and wraps the backend in an encoder.</summary>
    public static OpenVisionEncoder LoadEncoder(string reference, ModelLoadOptions? options = null, int? imageSize = null, OnnxRuntimeOptions? runtime = null,
        BackendChoiceCache? cache = null, bool remeasure = false, IProgress<string>? progress = null)
    {
        var backend = Load(reference, options, imageSize, runtime, cache, remeasure, progress);
        try { return new OpenVisionEncoder(backend); }
        catch { backend.Dispose(); throw; }
    }

    /// <summary>The candidates of the choice: "torch" (the default path, which wins ties) and "onnx".</summary>
    public static IReadOnlyList<string> Candidates { get; } = ["torch", "onnx"];

    /// <summary>The measured rates and the backend each batch size goes to.</summary>
    public BackendChoice Choice { get; }

    /// <summary>True when <see cref="Choice"/> came from the cache rather than a measurement in this process.</summary>
    public bool ChoiceFromCache { get; }

    /// <summary>The backend a batch of <paramref name="batchSize"/> images goes to.</summary>
    public IEncoderBackend BackendFor(int batchSize) => Choice.FastestAt(batchSize) == "onnx" ? onnxBackend : torchBackend;

    /// <inheritdoc/>
    public ModelConfig Config => torchBackend.Config;

    /// <inheritdoc/>
    public ModelSource Source => torchBackend.Source;

    /// <inheritdoc/>
    public int ImageSize => torchBackend.ImageSize;

    /// <inheritdoc/>
    public double LogitScale => torchBackend.LogitScale;

    /// <inheritdoc/>
    public bool HasTextTower => torchBackend.HasTextTower;

    /// <inheritdoc/>
    public DetailedImageOutputs DetailedOutputs => torchBackend.DetailedOutputs;

    /// <inheritdoc/>
    public ScalarType PixelDType => ScalarType.Float32;

    /// <inheritdoc/>
    public string? FeatureIdentity => torchBackend.FeatureIdentity is { } identity ? $"{identity}|fastest" : null;

    /// <inheritdoc/>
    public Tensor EncodeImage(Tensor pixels, bool normalize)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        return BackendFor(checked((int)Math.Max(1, pixels.shape[0]))).EncodeImage(pixels, normalize);
    }

    /// <inheritdoc/>
    public Tensor EncodeText(Tensor tokenIds, bool normalize) => torchBackend.EncodeText(tokenIds, normalize);

    /// <inheritdoc/>
    public ImageEncoding EncodeImageDetailed(Tensor pixels, IReadOnlyList<int> layers, bool normalize) =>
        torchBackend.EncodeImageDetailed(pixels, layers, normalize);

    /// <inheritdoc/>
    public int ResolveLayer(int layer) => torchBackend.ResolveLayer(layer);

    /// <inheritdoc/>
    public void Dispose()
    {
        onnxBackend.Dispose();
        torchBackend.Dispose();
    }
}
