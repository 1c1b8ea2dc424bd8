using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Evaluation;

/// <summary>A model whose embeddings are written down by hand (big_vision style): images by sample key, texts by
/// exact string. Unknown keys throw, so a test also proves which prompts the evaluator built.</summary>
public sealed class FakeEncoder(IReadOnlyDictionary<string, double[]> images, IReadOnlyDictionary<string, double[]> texts) : IEvaluationEncoder
{
    public IReadOnlyDictionary<string, double[]> ImagesTable => images;
    public IReadOnlyDictionary<string, double[]> TextsTable => texts;
    public int ImageCalls { get; private set; }
    public int ImagesEncoded { get; private set; }
    public List<string> TextsSeen { get; } = [];

    public string ModelName => "fake";
    public string Pretrained => "hand-written";
    public string? CacheIdentity { get; init; } = "fake-v1";

    /// <summary>Maps a sample key to the table's key (e.g. drops the shard from "shard.tar:key").</summary>
    public Func<string, string> KeyOf { get; init; } = key => key;

    // Tiny images keep the real decode/transform path cheap.
    public ImageTransformOptions TransformOptions { get; init; } = new() { ImageSize = 4 };

    public Tensor EncodeImages(PixelBatch batch)
    {
        ImageCalls++;
        ImagesEncoded += batch.Keys.Count;
        Assert.Equal(batch.Keys.Count, (int)batch.Pixels.shape[0]);
        return Stack(batch.Keys.Select(k => images.TryGetValue(KeyOf(k), out var v) ? v : throw new KeyNotFoundException($"no image embedding for '{k}'")));
    }

    public Tensor EncodeTexts(IReadOnlyList<string> batch)
    {
        TextsSeen.AddRange(batch);
        return Stack(batch.Select(t => texts.TryGetValue(t, out var v) ? v : throw new KeyNotFoundException($"no text embedding for '{t}'")));
    }

    private static Tensor Stack(IEnumerable<double[]> rows)
    {
        var list = rows.ToList();
        var flat = list.SelectMany(r => r).ToArray();
        return torch.tensor(flat, [list.Count, list[0].Length], ScalarType.Float64).to(ScalarType.Float32);
    }

    /// <summary>Unit vector e_i in <paramref name="dim"/> dimensions, optionally plus other weighted axes.</summary>
    public static double[] E(int dim, params (int Axis, double Weight)[] parts)
    {
        var v = new double[dim];
        foreach (var (axis, weight) in parts) v[axis] += weight;
        return v;
    }
}

/// <summary>Samples for fake-encoder tests: a 2×2 grey image (the fake ignores pixels) or one that fails to decode.</summary>
public static class FakeSamples
{
    private static readonly DecodedImage Pixel = new(2, 2, ImageMode.L, new byte[4], ImageFormat.Png);

    public static ImageSample Good(string key) => ImageSample.FromImage(key, Pixel);

    public static ImageSample Bad(string key) => new(key, () => throw new ImageDecodeException(key, "truncated file"));

    public static LabeledImage Labeled(string key, int label) => new(Good(key), label);

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "ov-eval-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }
}
