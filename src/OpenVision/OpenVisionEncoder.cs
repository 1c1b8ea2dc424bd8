using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Text;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision;

/// <summary>A model with the tokenizer and image transform its config prescribes: images and texts in, embeddings
/// out. This is the entry point most applications need.</summary>
public sealed class OpenVisionEncoder : IImageTextEncoder
{
    private OpenVisionEncoder(OpenVisionModel model, ModelSource source, int? imageSize)
    {
        Model = model;
        Source = source;
        var config = model.Config;
        Tokenizer = CreateTokenizer(config);
        ImageSize = imageSize ?? config.VisionCfg.ImageSize;
        if (ImageSize < config.VisionCfg.PatchSize) throw new ArgumentOutOfRangeException(nameof(imageSize), $"image size {ImageSize} is smaller than the patch size {config.VisionCfg.PatchSize}");
        Transform = new ImageTransform(CreateTransformOptions(config, ImageSize));
    }

    /// <summary>The model.</summary>
    public OpenVisionModel Model { get; }

    /// <inheritdoc/>
    public ModelConfig Config => Model.Config;

    /// <inheritdoc/>
    public double LogitScale => Model.LogitScale;

    /// <summary>Where the model came from.</summary>
    public ModelSource Source { get; }

    /// <summary>The tokenizer (OpenVision's WordPiece layout for OpenVision configs).</summary>
    public OpenVisionTokenizer Tokenizer { get; }

    /// <summary>The image transform (Pillow-exact resize and normalisation).</summary>
    public ImageTransform Transform { get; }

    /// <summary>Input resolution in pixels; may differ from the config's (the positional table is then recomputed).</summary>
    public int ImageSize { get; }

    /// <summary>Loads a model (see <see cref="ModelFactory.Load"/>) with its tokenizer and transform.</summary>
    /// <param name="reference">Built-in name, folder, checkpoint file or hf-hub: id.</param>
    /// <param name="options">Load settings.</param>
    /// <param name="imageSize">Run at this resolution instead of the config's.</param>
    /// <param name="hub">Hub client for hf-hub: references; null uses one configured from the environment.</param>
    public static OpenVisionEncoder Load(string reference, ModelLoadOptions? options = null, int? imageSize = null, Hub.HubClient? hub = null)
    {
        var (model, source) = ModelFactory.Load(reference, options, hub);
        try { return new OpenVisionEncoder(model, source, imageSize); }
        catch { model.Dispose(); throw; }
    }

    /// <summary>Wraps a model already in memory; the encoder takes ownership.</summary>
    public static OpenVisionEncoder FromModel(OpenVisionModel model, int? imageSize = null) =>
        new(model, new ModelSource(model.Config.Name, null, null), imageSize);

    /// <summary>The tokenizer a config calls for; only OpenVision's BERT WordPiece layout is implemented. A vision-only
    /// model gets OpenVision's (its caption decoder's vocabulary); its text embedding still refuses.</summary>
    public static OpenVisionTokenizer CreateTokenizer(ModelConfig config) => config.IsVisionOnly ? OpenVisionTokenizer.CreateDefault() : config.TextCfg.HfTokenizerName switch
    {
        "bert-base-uncased" => OpenVisionTokenizer.CreateDefault(config.TextCfg.ContextLength),
        var other => throw new NotSupportedException($"{config.Name}: tokenizer '{other ?? "OpenAI BPE"}' is not implemented (only OpenVision's bert-base-uncased layout)"),
    };

    /// <summary>The transform a config calls for, at <paramref name="imageSize"/> pixels.</summary>
    public static ImageTransformOptions CreateTransformOptions(ModelConfig config, int imageSize) =>
        ImageTransformOptions.FromOpenClip(imageSize, config.Preprocess.Mean, config.Preprocess.Std, config.Preprocess.Interpolation, config.Preprocess.ResizeMode);

    /// <summary>Token ids [N, context_length] (int64). Empty or whitespace-only texts are refused.</summary>
    public Tensor Tokenize(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        for (int i = 0; i < texts.Count; i++)
            if (string.IsNullOrWhiteSpace(texts[i])) throw new ArgumentException($"text {i} is empty; give at least one word");
        return torch.tensor(Tokenizer.EncodeBatch(texts));
    }

    /// <summary>Normalized pixels [N, 3, S, S] in the model's output type (float32 for a bfloat16 model, which rounds
    /// them to bfloat16 itself on entry).</summary>
    public Tensor Preprocess(IReadOnlyList<DecodedImage> images)
    {
        using var pixels = Transform.ToTensor(images);
        return pixels.to(Model.OutputDType);
    }

    /// <inheritdoc/>
    public Tensor EncodePixels(Tensor pixels, bool normalize = true) => Model.EncodeImage(pixels, normalize);

    /// <inheritdoc/>
    public Tensor EncodeTokenIds(Tensor tokenIds, bool normalize = true) => Model.EncodeText(tokenIds, normalize);

    /// <summary>Text embeddings [N, E], L2-normalized unless <paramref name="normalize"/> is false.</summary>
    public Tensor EncodeTexts(IReadOnlyList<string> texts, bool normalize = true, int batchSize = 256)
    {
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < texts.Count; start += batchSize)
            {
                using var ids = Tokenize(texts.Skip(start).Take(batchSize).ToList());
                parts.Add(Model.EncodeText(ids, normalize));
            }
            return parts.Count == 1 ? parts[0].alias() : torch.cat(parts, 0);
        }
        finally { foreach (var p in parts) p.Dispose(); }
    }

    /// <summary>Image embeddings [N, E] for decoded images, L2-normalized unless <paramref name="normalize"/> is false.</summary>
    public Tensor EncodeImages(IReadOnlyList<DecodedImage> images, bool normalize = true, int batchSize = 32)
    {
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < images.Count; start += batchSize)
            {
                using var pixels = Preprocess(images.Skip(start).Take(batchSize).ToList());
                parts.Add(Model.EncodeImage(pixels, normalize));
            }
            return parts.Count == 1 ? parts[0].alias() : torch.cat(parts, 0);
        }
        finally { foreach (var p in parts) p.Dispose(); }
    }

    /// <summary>Image embeddings for image files; decoding errors name the file.</summary>
    public Tensor EncodeImageFiles(IReadOnlyList<string> paths, bool normalize = true, int batchSize = 32) =>
        EncodeImages(paths.Select(p => ImageDecoder.Decode(p)).ToList(), normalize, batchSize);

    /// <summary>A zero-shot classifier over <paramref name="classNames"/> (templates filled with each name).</summary>
    public ZeroShotClassifier CreateClassifier(IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null, bool canonicalize = false) =>
        ZeroShotClassifier.Create(Model, Tokenizer, classNames, templates, canonicalize);

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
