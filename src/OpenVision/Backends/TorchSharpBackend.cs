using OpenVision.Configs;
using OpenVision.Models;
using static TorchSharp.torch;

namespace OpenVision.Backends;

/// <summary>The TorchSharp backend: an <see cref="OpenVisionModel"/> in this process, any resolution, every detailed output.</summary>
public sealed class TorchSharpBackend : IEncoderBackend
{
    /// <summary>Wraps a model already in memory; the backend takes ownership.</summary>
    /// <param name="model">The model.</param>
    /// <param name="source">Where it came from; null names it after its config, without weights.</param>
    /// <param name="imageSize">Run at this resolution instead of the config's (the positional table is then recomputed).</param>
    public TorchSharpBackend(OpenVisionModel model, ModelSource? source = null, int? imageSize = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Source = source ?? new ModelSource(model.Config.Name, null, null);
        ImageSize = imageSize ?? model.Config.VisionCfg.ImageSize;
        if (ImageSize < model.Config.VisionCfg.PatchSize)
            throw new ArgumentOutOfRangeException(nameof(imageSize), $"image size {ImageSize} is smaller than the patch size {model.Config.VisionCfg.PatchSize}");
    }

    /// <summary>Loads a model (see <see cref="ModelFactory.Load"/>).</summary>
    /// <param name="reference">Built-in name, folder, checkpoint file or hf-hub: id.</param>
    /// <param name="options">Load settings.</param>
    /// <param name="imageSize">Run at this resolution instead of the config's.</param>
    /// <param name="hub">Hub client for hf-hub: references; null uses one configured from the environment.</param>
    public static TorchSharpBackend Load(string reference, ModelLoadOptions? options = null, int? imageSize = null, Hub.HubClient? hub = null)
    {
        var (model, source) = ModelFactory.Load(reference, options, hub);
        try { return new TorchSharpBackend(model, source, imageSize); }
        catch { model.Dispose(); throw; }
    }

    /// <summary>The model, for what needs TorchSharp itself (training, export).</summary>
    public OpenVisionModel Model { get; }

    /// <inheritdoc/>
    public ModelConfig Config => Model.Config;

    /// <inheritdoc/>
    public ModelSource Source { get; }

    /// <inheritdoc/>
    public int ImageSize { get; }

    /// <inheritdoc/>
    public double LogitScale => Model.LogitScale;

    /// <inheritdoc/>
    public bool HasTextTower => Model.HasTextTower;

    /// <inheritdoc/>
    public DetailedImageOutputs DetailedOutputs => DetailedImageOutputs.PatchTokens | DetailedImageOutputs.BlockOutputs;

    /// <inheritdoc/>
    public ScalarType PixelDType => Model.OutputDType;

    /// <inheritdoc/>
    public string? FeatureIdentity
    {
        get
        {
            // Random weights differ on every load, so their features are never reused.
            if (Source.WeightsPath is not { } weights || !File.Exists(weights)) return null;
            var file = new FileInfo(weights);
            return $"{Source.Reference}|{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}|{Model.DType}";
        }
    }

    /// <inheritdoc/>
    public Tensor EncodeImage(Tensor pixels, bool normalize) => Model.EncodeImage(pixels, normalize);

    /// <inheritdoc/>
    public Tensor EncodeText(Tensor tokenIds, bool normalize) => Model.EncodeText(tokenIds, normalize);

    /// <inheritdoc/>
    public ImageEncoding EncodeImageDetailed(Tensor pixels, IReadOnlyList<int> layers, bool normalize) =>
        Model.EncodeImageDetailed(pixels, layers, normalize);

    /// <inheritdoc/>
    public int ResolveLayer(int layer) => Model.ResolveLayer(layer);

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
