using OpenVision.Checkpoints;
using OpenVision.Text;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Captioning;

/// <summary>An OpenVision 2 encoder with its caption decoder: images in, captions out.</summary>
public sealed class ImageCaptioner : IDisposable
{
    /// <summary>The decoder weights file of an OpenVision 2 repository.</summary>
    public const string DecoderWeightsFileName = "caption_decoder.safetensors";

    /// <summary>The vocabulary file an OpenVision 2 repository may carry (read when present, else the built-in copy).</summary>
    public const string VocabularyFileName = "bert_base_vocab_bos_eos.txt";

    private ImageCaptioner(OpenVisionEncoder encoder, OpenVision2Decoder decoder, OpenVisionTokenizer tokenizer)
    {
        Encoder = encoder;
        Decoder = decoder;
        Tokenizer = tokenizer;
    }

    /// <summary>The vision encoder (its patch tokens feed the decoder).</summary>
    public OpenVisionEncoder Encoder { get; }

    /// <summary>The caption decoder.</summary>
    public OpenVision2Decoder Decoder { get; }

    /// <summary>The WordPiece vocabulary used to detokenise.</summary>
    public OpenVisionTokenizer Tokenizer { get; }

    /// <summary>Loads a model and the decoder beside it (<see cref="CaptionDecoderConfig.FileName"/> and
    /// <see cref="DecoderWeightsFileName"/>) from a folder, a checkpoint file's folder or an <c>hf-hub:</c> repository.</summary>
    public static ImageCaptioner Load(string reference, ModelLoadOptions? options = null, Hub.HubClient? hub = null)
    {
        options ??= new ModelLoadOptions();
        var files = DecoderFiles(reference, hub);
        var config = CaptionDecoderConfig.Load(files.Config);
        var tokenizer = files.Vocabulary is { } vocab ? OpenVisionTokenizer.FromVocabFile(vocab) : OpenVisionTokenizer.CreateDefault();
        var decoder = new OpenVision2Decoder(config);
        OpenVisionEncoder? encoder = null;
        try
        {
            StateDictLoader.Load(decoder, SafetensorsFile.Read(files.Weights), files.Weights, strict: true);
            decoder.to(options.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
            if (options.Device is { } device && device.type != DeviceType.CPU) decoder.to(device);
            decoder.eval();
            encoder = OpenVisionEncoder.Load(reference, options, hub: hub);
            int width = encoder.Config.VisionCfg.Width;
            if (width != config.VisionWidth)
                throw new InvalidOperationException($"{files.Config}: vision_width {config.VisionWidth} does not match the vision tower's width {width}");
            return new ImageCaptioner(encoder, decoder, tokenizer);
        }
        catch
        {
            encoder?.Dispose();
            decoder.Dispose();
            throw;
        }
    }

    /// <summary>One caption per image file; decoding errors name the file.</summary>
    public IReadOnlyList<Caption> CaptionFiles(IReadOnlyList<string> paths, CaptionOptions? options = null) =>
        CaptionImages(paths.Select(p => ImageDecoder.Decode(p)).ToList(), options);

    /// <summary>One caption per decoded image.</summary>
    public IReadOnlyList<Caption> CaptionImages(IReadOnlyList<DecodedImage> images, CaptionOptions? options = null)
    {
        var results = new List<Caption>(images.Count);
        foreach (var image in images)
        {
            using var pixels = Encoder.Preprocess([image]);
            results.Add(CaptionPixels(pixels, options)[0]);
        }
        return results;
    }

    /// <summary>One caption per row of normalized pixels [B, 3, S, S].</summary>
    public IReadOnlyList<Caption> CaptionPixels(Tensor pixels, CaptionOptions? options = null)
    {
        options = (options ?? new CaptionOptions()).Validate();
        using var encoding = Encoder.EncodeImageDetailed(pixels);
        var results = new List<Caption>();
        for (long i = 0; i < encoding.Tokens.shape[0]; i++)
        {
            using var tokens = encoding.Tokens.narrow(0, i, 1);                     // [1, N, Wv]
            results.Add(CaptionTokens(tokens, options));
        }
        return results;
    }

    /// <summary>The caption of one image's patch tokens [1, N, Wv].</summary>
    public Caption CaptionTokens(Tensor imageTokens, CaptionOptions? options = null)
    {
        options = (options ?? new CaptionOptions()).Validate();
        int limit = Math.Min(Decoder.Config.VocabSize, Tokenizer.VocabularySize);
        var (ids, logp) = options.BeamWidth == 1
            ? CaptionSearch.Greedy(Decoder, imageTokens, options.Mask, options.MaxTokens, limit)
            : CaptionSearch.Beam(Decoder, imageTokens, options.Mask, options.MaxTokens, limit, options.BeamWidth);
        return new Caption(Tokenizer.Decode(ids.Select(i => (long)i)), ids, logp);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Encoder.Dispose();
        Decoder.Dispose();
    }

    private static (string Config, string Weights, string? Vocabulary) DecoderFiles(string reference, Hub.HubClient? hub)
    {
        if (reference.StartsWith(Hub.HubModelId.Prefix, StringComparison.Ordinal))
        {
            var id = Hub.HubModelId.Parse(reference);
            var client = hub ?? new Hub.HubClient();
            try
            {
                string config = client.DownloadAsync(id, CaptionDecoderConfig.FileName).GetAwaiter().GetResult();
                string weights = client.DownloadAsync(id, DecoderWeightsFileName).GetAwaiter().GetResult();
                string? vocab = null;
                try { vocab = client.DownloadAsync(id, VocabularyFileName).GetAwaiter().GetResult(); }
                catch (Hub.HubException) { }   // optional: the built-in vocabulary is the same file
                return (config, weights, vocab);
            }
            finally { if (hub is null) client.Dispose(); }
        }
        string folder = Directory.Exists(reference) ? reference
            : File.Exists(reference) ? Path.GetDirectoryName(Path.GetFullPath(reference)) ?? "."
            : throw new FileNotFoundException($"'{reference}': captioning needs a folder (or hf-hub: repository) with {CaptionDecoderConfig.FileName} and {DecoderWeightsFileName}");
        string configPath = Path.Combine(folder, CaptionDecoderConfig.FileName), weightsPath = Path.Combine(folder, DecoderWeightsFileName);
        foreach (var path in new[] { configPath, weightsPath })
            if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: no {Path.GetFileName(path)}, so the model has no caption decoder (OpenVision 2 repositories ship one)");
        string vocabPath = Path.Combine(folder, VocabularyFileName);
        return (configPath, weightsPath, File.Exists(vocabPath) ? vocabPath : null);
    }
}
