using OpenVision.Backends;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Text;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision;

/// <summary>Images and texts in, embeddings out, whatever runs the model: the tokenizer, image transform and batching
/// its config prescribes, on top of an <see cref="IEncoderBackend"/> (TorchSharp or ONNX Runtime). This is the entry
/// point most applications need. Results are tensors the caller disposes.</summary>
public sealed class OpenVisionEncoder : IDisposable
{
    /// <summary>Puts the config's tokenizer and transform on top of a backend; the encoder takes ownership of it.</summary>
    /// <param name="backend">What runs the model.</param>
    /// <param name="tokenizer">The tokenizer, when the backend ships its own vocabulary; null uses the config's.</param>
    public OpenVisionEncoder(IEncoderBackend backend, OpenVisionTokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Backend = backend;
        Tokenizer = tokenizer ?? CreateTokenizer(backend.Config);
        Transform = new ImageTransform(CreateTransformOptions(backend.Config, backend.ImageSize));
    }

    /// <summary>Loads a model into the TorchSharp backend (see <see cref="ModelFactory.Load"/>).</summary>
    /// <param name="reference">Built-in name, folder, checkpoint file or hf-hub: id.</param>
    /// <param name="options">Load settings.</param>
    /// <param name="imageSize">Run at this resolution instead of the config's.</param>
    /// <param name="hub">Hub client for hf-hub: references; null uses one configured from the environment.</param>
    public static OpenVisionEncoder Load(string reference, ModelLoadOptions? options = null, int? imageSize = null, Hub.HubClient? hub = null)
    {
        var backend = TorchSharpBackend.Load(reference, options, imageSize, hub);
        try { return new OpenVisionEncoder(backend); }
        catch { backend.Dispose(); throw; }
    }

    /// <summary>Wraps a model already in memory in the TorchSharp backend; the encoder takes ownership.</summary>
    public static OpenVisionEncoder FromModel(OpenVisionModel model, int? imageSize = null) => new(new TorchSharpBackend(model, imageSize: imageSize));

    /// <summary>What runs the model.</summary>
    public IEncoderBackend Backend { get; }

    /// <summary>The architecture and preprocessing.</summary>
    public ModelConfig Config => Backend.Config;

    /// <summary>exp(logit_scale): the factor applied to cosine similarities.</summary>
    public double LogitScale => Backend.LogitScale;

    /// <summary>Where the model came from.</summary>
    public ModelSource Source => Backend.Source;

    /// <summary>The tokenizer (OpenVision's WordPiece layout for OpenVision configs).</summary>
    public OpenVisionTokenizer Tokenizer { get; }

    /// <summary>The image transform (Pillow-exact resize and normalisation).</summary>
    public ImageTransform Transform { get; }

    /// <summary>Input resolution in pixels; may differ from the config's (the positional table is then recomputed).</summary>
    public int ImageSize => Backend.ImageSize;

    /// <summary>A string that changes whenever the features would (weights, precision, resolution); null when they
    /// must not be cached (randomly initialised weights).</summary>
    public string? CacheIdentity => Backend.FeatureIdentity is { } identity ? $"{identity}|{ImageSize}" : null;

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

    /// <summary>Normalized pixels [N, 3, S, S] in the type the backend takes.</summary>
    public Tensor Preprocess(IReadOnlyList<DecodedImage> images)
    {
        using var pixels = Transform.ToTensor(images);
        return pixels.to(Backend.PixelDType);
    }

    /// <summary>Image features [N, E] for normalized pixels [N, 3, S, S], in one backend call.</summary>
    public Tensor EncodePixels(Tensor pixels, bool normalize = true) => Backend.EncodeImage(pixels, normalize);

    /// <summary>Text features [N, E] for token ids [N, context_length] (int64), in one backend call.</summary>
    /// <exception cref="ArgumentException">The ids are not int64 [N, context_length], or one is outside the model's
    /// vocabulary (the message names the first such id and its index).</exception>
    public Tensor EncodeTokenIds(Tensor tokenIds, bool normalize = true)
    {
        // Every backend gets the same one-line error; an ONNX graph or libtorch would fail deep inside on a bad id.
        TokenIdChecks.RequireTextIds(tokenIds, Config.TextCfg.ContextLength, Config.TextCfg.VocabSize);
        return Backend.EncodeText(tokenIds, normalize);
    }

    /// <summary>Image features with patch tokens and the outputs of <paramref name="layers"/> (LLaVA reads block −2).</summary>
    /// <exception cref="NotSupportedException">The backend cannot give them (see <see cref="IEncoderBackend.DetailedOutputs"/>).</exception>
    public ImageEncoding EncodeImageDetailed(Tensor pixels, IReadOnlyList<int>? layers = null, bool normalize = true) =>
        Backend.EncodeImageDetailed(pixels, layers ?? [], normalize);

    /// <summary>Maps a possibly negative block index to 0-based; throws when out of range or unavailable.</summary>
    public int ResolveLayer(int layer) => Backend.ResolveLayer(layer);

    /// <summary>Text embeddings [N, E], L2-normalized unless <paramref name="normalize"/> is false.</summary>
    public Tensor EncodeTexts(IReadOnlyList<string> texts, bool normalize = true, int batchSize = 256) =>
        InBatches(texts, batchSize, batch =>
        {
            using var ids = Tokenize(batch);
            return Backend.EncodeText(ids, normalize);
        });

    /// <summary>Image embeddings [N, E] for decoded images, L2-normalized unless <paramref name="normalize"/> is false.</summary>
    public Tensor EncodeImages(IReadOnlyList<DecodedImage> images, bool normalize = true, int batchSize = 32) =>
        InBatches(images, batchSize, batch =>
        {
            using var pixels = Preprocess(batch);
            return Backend.EncodeImage(pixels, normalize);
        });

    /// <summary>Image embeddings for image files; decoding errors name the file.</summary>
    public Tensor EncodeImageFiles(IReadOnlyList<string> paths, bool normalize = true, int batchSize = 32) =>
        EncodeImages(paths.Select(p => ImageDecoder.Decode(p)).ToList(), normalize, batchSize);

    /// <summary>A zero-shot classifier over <paramref name="classNames"/> (templates filled with each name).</summary>
    public ZeroShotClassifier CreateClassifier(IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null, bool canonicalize = false) =>
        ZeroShotClassifier.Create(prompts => EncodeTexts(prompts, normalize: true), LogitScale, classNames, templates, canonicalize);

    /// <inheritdoc/>
    public void Dispose() => Backend.Dispose();

    private static Tensor InBatches<T>(IReadOnlyList<T> items, int batchSize, Func<IReadOnlyList<T>, Tensor> encode)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < items.Count; start += batchSize)
                parts.Add(encode(items.Skip(start).Take(batchSize).ToList()));
            return parts.Count == 1 ? parts[0].alias() : torch.cat(parts, 0);
        }
        finally { foreach (var p in parts) p.Dispose(); }
    }
}
