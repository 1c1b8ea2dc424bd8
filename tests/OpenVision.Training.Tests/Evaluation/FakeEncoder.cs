using System.Security.Cryptography;
using System.Text;
using OpenVision.Backends;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Evaluation;

/// <summary>A backend whose embeddings are written down by hand (big_vision style): images by sample key, texts by
/// exact string. It sees only what a real backend sees (pixels and token ids) and recognises each input by the
/// pixels of the key's image (<see cref="FakeSamples.ImageOf"/>, or one given in <see cref="Pictures"/>) and by the
/// token ids of the string, so the evaluators run through the real <see cref="OpenVisionEncoder"/>. Unknown inputs
/// throw, so a test also proves which images and prompts the evaluator encoded. Converts implicitly to the encoder
/// on top of it, which is what the evaluators take.</summary>
public sealed class FakeEncoder : IEncoderBackend
{
    private const int Size = 4;
    private readonly IReadOnlyDictionary<string, double[]> images, texts;
    private readonly Dictionary<string, string> textByIds = [];
    private readonly Text.OpenVisionTokenizer tokenizer;
    private List<(string Key, float[] Pixels)>? expectedPixels;
    private OpenVisionEncoder? encoder;

    public FakeEncoder(IReadOnlyDictionary<string, double[]> images, IReadOnlyDictionary<string, double[]> texts)
    {
        this.images = images;
        this.texts = texts;
        tokenizer = OpenVisionEncoder.CreateTokenizer(Config);
        foreach (var text in texts.Keys)
        {
            string ids = string.Join(',', tokenizer.Encode(text));
            if (!textByIds.TryAdd(ids, text)) throw new ArgumentException($"'{text}' and '{textByIds[ids]}' tokenize alike");
        }
    }

    public IReadOnlyDictionary<string, double[]> ImagesTable => images;
    public IReadOnlyDictionary<string, double[]> TextsTable => texts;
    public int ImageCalls { get; private set; }
    public int ImagesEncoded { get; private set; }
    public List<string> TextsSeen { get; } = [];

    /// <summary>Images that are not <see cref="FakeSamples.ImageOf"/> their key (e.g. a real JPEG), by key.</summary>
    public Dictionary<string, DecodedImage> Pictures { get; init; } = [];

    public string? CacheIdentity { get; init; } = "fake-v1";

    public ModelConfig Config { get; } = new()
    {
        Name = "fake",
        VisionCfg = new VisionConfig { ImageSize = Size, PatchSize = 2 },   // tiny images keep the real decode/transform path cheap
        TextCfg = new TextConfig { HfTokenizerName = "bert-base-uncased" },
    };

    public ModelSource Source { get; } = new("fake", null, "hand-written");
    public int ImageSize => Size;
    public double LogitScale => 100;
    public bool HasTextTower => true;
    public DetailedImageOutputs DetailedOutputs => DetailedImageOutputs.None;
    public ScalarType PixelDType => ScalarType.Float32;
    public string? FeatureIdentity => CacheIdentity;

    /// <summary>The encoder on top of this backend (one per fake, so the counters add up).</summary>
    public OpenVisionEncoder Encoder => encoder ??= new OpenVisionEncoder(this);

    public static implicit operator OpenVisionEncoder(FakeEncoder fake) => fake.Encoder;

    public Tensor EncodeImage(Tensor pixels, bool normalize)
    {
        ImageCalls++;
        ImagesEncoded += (int)pixels.shape[0];
        expectedPixels ??= images.Keys.Select(k => (k, Transform().ToChw(Pictures.TryGetValue(k, out var p) ? p : FakeSamples.ImageOf(k)))).ToList();
        using var flat = pixels.to(ScalarType.Float32).reshape(pixels.shape[0], -1).contiguous();
        var rows = new List<double[]>();
        for (long i = 0; i < flat.shape[0]; i++)
        {
            using var row = flat[i];
            var data = row.data<float>().ToArray();
            var match = expectedPixels.Where(e => e.Pixels.AsSpan().SequenceEqual(data)).Select(e => e.Key).ToList();
            if (match.Count != 1) throw new KeyNotFoundException($"image {i} of the batch is {(match.Count == 0 ? "no" : "more than one")} table image");
            rows.Add(images[match[0]]);
        }
        return Stack(rows, normalize);
    }

    public Tensor EncodeText(Tensor tokenIds, bool normalize)
    {
        var rows = new List<double[]>();
        for (long i = 0; i < tokenIds.shape[0]; i++)
        {
            using var row = tokenIds[i];
            var rowIds = row.data<long>().ToArray();
            string ids = string.Join(',', rowIds);
            if (!textByIds.TryGetValue(ids, out var text)) throw new KeyNotFoundException($"no text embedding for '{tokenizer.Decode(rowIds)}'");
            TextsSeen.Add(text);
            rows.Add(texts[text]);
        }
        return Stack(rows, normalize);
    }

    public ImageEncoding EncodeImageDetailed(Tensor pixels, IReadOnlyList<int> layers, bool normalize) =>
        throw new NotSupportedException("the fake gives pooled features only");

    public int ResolveLayer(int layer) => throw new NotSupportedException("the fake gives pooled features only");

    public void Dispose() { }

    private ImageTransform Transform() => new(OpenVisionEncoder.CreateTransformOptions(Config, Size));

    private static Tensor Stack(List<double[]> rows, bool normalize)
    {
        var flat = rows.SelectMany(r => r).ToArray();
        using var features = torch.tensor(flat, [rows.Count, rows[0].Length], ScalarType.Float64).to(ScalarType.Float32);
        return normalize ? nn.functional.normalize(features, dim: -1) : features.alias();
    }

    /// <summary>Unit vector e_i in <paramref name="dim"/> dimensions, optionally plus other weighted axes.</summary>
    public static double[] E(int dim, params (int Axis, double Weight)[] parts)
    {
        var v = new double[dim];
        foreach (var (axis, weight) in parts) v[axis] += weight;
        return v;
    }
}

/// <summary>Samples for fake-encoder tests: a 2×2 image of the key's own colours, or one that fails to decode.</summary>
public static class FakeSamples
{
    /// <summary>A 2×2 RGB image whose 12 bytes come from the key's SHA-256: distinct keys, distinct pixels.</summary>
    public static DecodedImage ImageOf(string key) =>
        new(2, 2, ImageMode.Rgb, SHA256.HashData(Encoding.UTF8.GetBytes(key))[..12], ImageFormat.Png);

    /// <summary><see cref="ImageOf"/> as PNG bytes, for shards and folders.</summary>
    public static byte[] PngOf(string key) => PngEncoder.Encode(ImageOf(key).Pixels, 2, 2, 3);

    public static ImageSample Good(string key) => ImageSample.FromImage(key, ImageOf(key));

    public static ImageSample Bad(string key) => new(key, () => throw new ImageDecodeException(key, "truncated file"));

    public static LabeledImage Labeled(string key, int label) => new(Good(key), label);

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "ov-eval-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }
}
