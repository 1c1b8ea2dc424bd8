using System.Text.Json;
using OpenVision.Captioning;
using OpenVision.Checkpoints;
using OpenVision.Models;
using OpenVision.Text;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Models;

/// <summary>Captions from a CLIPS model trained by <see cref="TrainingLoop"/>, with the CLIPS decoder saved beside it
/// (<see cref="ClipsTrainingModel.SaveModel"/>). The CLIPS decoder is not teacher-forced: its learnable queries read the
/// image tokens and the alt-text's states and predict every caption position at once (reference §5.2), so a caption
/// is one forward pass: the alt-text is empty ("" in the text tower's layout: [bos] [eos] … [CLS]) and each query
/// position's most likely token is taken, up to the first [eos]. No beam search: positions are not conditioned on each other.</summary>
public sealed class ClipsCaptioner : IDisposable
{
    /// <summary>The CLIPS decoder's weights beside a trained model (keys of <see cref="CaptionDecoder"/>).</summary>
    public const string DecoderWeightsFileName = "clips_decoder.safetensors";

    /// <summary>The CLIPS decoder's architecture (<see cref="DecoderConfig"/>, snake_case JSON).</summary>
    public const string DecoderConfigFileName = "clips_decoder_config.json";

    private static readonly IReadOnlySet<int> NoLayers = new HashSet<int>();

    private readonly OpenVisionModel model;   // owned by Encoder

    private ClipsCaptioner(OpenVisionEncoder encoder, OpenVisionModel model, CaptionDecoder decoder, OpenVisionTokenizer tokenizer)
    {
        Encoder = encoder;
        this.model = model;
        Decoder = decoder;
        Tokenizer = tokenizer;
    }

    /// <summary>The encoder (preprocessing, image features).</summary>
    public OpenVisionEncoder Encoder { get; }

    /// <summary>The CLIPS decoder.</summary>
    public CaptionDecoder Decoder { get; }

    /// <summary>The tokenizer of the alt-text and of the captions.</summary>
    public OpenVisionTokenizer Tokenizer { get; }

    /// <summary>True when <paramref name="folder"/> holds a CLIPS decoder (<see cref="DecoderConfigFileName"/> and <see cref="DecoderWeightsFileName"/>).</summary>
    public static bool HasDecoder(string folder) =>
        Directory.Exists(folder) && File.Exists(Path.Combine(folder, DecoderConfigFileName)) && File.Exists(Path.Combine(folder, DecoderWeightsFileName));

    /// <summary>Writes <paramref name="decoder"/> beside a saved model (float32 weights and its config).</summary>
    public static void SaveDecoder(CaptionDecoder decoder, string folder)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        SafetensorsFile.Write(Path.Combine(folder, DecoderWeightsFileName), StateDictLoader.Export(decoder, ScalarType.Float32), new Dictionary<string, string> { ["format"] = "pt" });
        IO.AtomicFile.WriteAllText(Path.Combine(folder, DecoderConfigFileName), JsonSerializer.Serialize(decoder.Config, TrainConfig.JsonOptions));
    }

    /// <summary>Loads a model folder written by <see cref="ClipsTrainingModel.SaveModel"/>, in float32 on the CPU.</summary>
    public static ClipsCaptioner Load(string folder)
    {
        if (!HasDecoder(folder)) throw new FileNotFoundException($"{folder}: no {DecoderConfigFileName} and {DecoderWeightsFileName}, so it has no CLIPS decoder (a CLIPS run of `openvision train` saves one)");
        string configPath = Path.Combine(folder, DecoderConfigFileName), weightsPath = Path.Combine(folder, DecoderWeightsFileName);
        DecoderConfig config;
        try { config = (JsonSerializer.Deserialize<DecoderConfig>(File.ReadAllText(configPath), TrainConfig.JsonOptions) ?? throw new ArgumentException("the config is null")).Validate(); }
        catch (Exception e) when (e is JsonException or ArgumentException) { throw new ArgumentException($"{configPath}: {e.Message}"); }
        var model = ModelFactory.Load(folder).Model;
        if (!model.HasTextTower) { model.Dispose(); throw new ArgumentException($"{folder}: a CLIPS decoder needs the model's text tower, and this model is vision-only"); }
        var encoder = OpenVisionEncoder.FromModel(model);
        var decoder = new CaptionDecoder(config, model.Visual.Config.Width, model.TextConfig.Width);
        try
        {
            StateDictLoader.Load(decoder, SafetensorsFile.Read(weightsPath), weightsPath, strict: true);
            decoder.to(model.DType);
            decoder.eval();
            return new ClipsCaptioner(encoder, model, decoder, OpenVisionTokenizer.CreateDefault(model.TextConfig.ContextLength));
        }
        catch
        {
            decoder.Dispose();
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>One caption per image file; decoding errors name the file.</summary>
    public IReadOnlyList<Caption> CaptionFiles(IReadOnlyList<string> paths, int maxTokens = 64)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var results = new List<Caption>();
        foreach (var path in paths)
        {
            using var pixels = Encoder.Preprocess([ImageDecoder.Decode(path)]);
            results.AddRange(CaptionPixels(pixels, maxTokens));
        }
        return results;
    }

    /// <summary>One caption per row of normalized pixels [B, 3, S, S]: the argmax at each query position, up to [eos]
    /// or <paramref name="maxTokens"/> tokens (at most the decoder's query count − 1); only ids the vocabulary has.</summary>
    public IReadOnlyList<Caption> CaptionPixels(Tensor pixels, int maxTokens = 64)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        long batch = pixels.shape[0];
        var vision = model.Visual.Forward(pixels.to(model.DType), NoLayers).Tokens;                     // [B, G, Wv]
        var alt = torch.tensor(Tokenizer.Encode(""), ScalarType.Int64).unsqueeze(0).expand(batch, -1);  // [B, L]
        var states = model.ForwardText(alt).Encoded;
        var altStates = states.narrow(1, 0, states.shape[1] - 1);                                       // class position dropped, as in training
        var logits = Decoder.Head(Decoder.QueryStates(vision, altStates));                              // [B, Q, V]
        int limit = (int)Math.Min(logits.shape[2], Tokenizer.VocabularySize);
        var logp = logits.narrow(2, 0, limit).to(ScalarType.Float64).log_softmax(2);
        var (best, ids) = logp.max(2);
        var bestValues = best.data<double>().ToArray();
        var idValues = ids.data<long>().ToArray();
        long queries = logits.shape[1];
        var results = new List<Caption>();
        for (long b = 0; b < batch; b++)
        {
            var tokens = new List<int>();
            double total = 0;
            // Query q predicts caption token q + 1 (targets are the caption shifted by one): [bos] is never predicted.
            for (long q = 0; q < Math.Min(queries, maxTokens + 1); q++)
            {
                long at = b * queries + q;
                total += bestValues[at];
                if (idValues[at] == OpenVisionTokenizer.EosId) break;
                if (tokens.Count == maxTokens) break;
                tokens.Add((int)idValues[at]);
            }
            results.Add(new Caption(Tokenizer.Decode(tokens.Select(t => (long)t)), tokens, total));
        }
        return results;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Decoder.Dispose();
        Encoder.Dispose();
    }
}
