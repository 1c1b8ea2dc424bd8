using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Training.Losses;
using OpenVision.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests;

/// <summary>Tiny OpenVision-shaped models and batches, small enough for float64 gradient checks in milliseconds.</summary>
internal static class TinyModels
{
    public const int ContextLength = 8, VocabSize = 40, QueryTokens = 6, ImageSize = 16;

    // OpenVision's architecture flags (no ln_pre, avg pool, ln_post after pool, eps 1e-6, tanh GELU text,
    // bidirectional text pooled at the last position) at toy sizes: 2×2 patches, 2 blocks per tower.
    public static ModelConfig Config() => new()
    {
        Name = "tiny-openvision",
        EmbedDim = 8,
        VisionCfg = new VisionConfig
        {
            ImageSize = ImageSize, PatchSize = 8, Width = 16, Layers = 2, HeadWidth = 8,
            NoLnPre = true, PoolType = VisionPoolType.Avg, FinalLnAfterPool = true, NormKwargs = new(1e-6),
        },
        TextCfg = new TextConfig
        {
            ContextLength = ContextLength, VocabSize = VocabSize, Width = 12, Heads = 2, Layers = 2,
            PoolType = "last", NoCausalMask = true, NormKwargs = new(1e-6), ActKwargs = new("tanh"),
        },
    };

    public static DecoderConfig Decoder() => new() { Width = 12, Layers = 2, Heads = 2, MlpWidth = 24, QueryTokens = QueryTokens, VocabSize = VocabSize };

    public static ClipsTrainingModel Model(int seed, ScalarType dtype = ScalarType.Float32, LossWeights? weights = null)
    {
        torch.manual_seed(seed);
        var model = new ClipsTrainingModel(new OpenVisionModel(Config()), Decoder(), weights);
        return dtype == ScalarType.Float32 ? model : model.To(dtype);
    }

    /// <summary>A batch laid out like OpenVision's: texts [bos] words [eos] pads [cls-like last id]; captions [bos] words [eos] pads.</summary>
    public static Batch MakeBatch(int size, int seed, ScalarType dtype = ScalarType.Float32)
    {
        var random = new Random(seed);
        var generator = new Generator((ulong)seed);
        var pixels = torch.randn([size, 3, ImageSize, ImageSize], dtype: dtype, generator: generator);
        return new Batch(pixels, Texts(size, ContextLength, random, withClass: true), Texts(size, ContextLength, random, withClass: true),
            Texts(size, QueryTokens, random, withClass: false));
    }

    private static Tensor Texts(int size, int length, Random random, bool withClass)
    {
        var ids = new long[size, length];
        for (int b = 0; b < size; b++)
        {
            int body = length - (withClass ? 1 : 0);
            int words = random.Next(1, body - 1);                        // leaves room for [bos] and [eos]
            ids[b, 0] = 1;
            for (int i = 1; i <= words; i++) ids[b, i] = random.Next(3, VocabSize - 1);
            ids[b, words + 1] = 2;
            if (withClass) ids[b, length - 1] = VocabSize - 1;          // stands in for [CLS] = 101
        }
        return torch.tensor(ids);
    }

    public sealed record Batch(Tensor Pixels, Tensor AltTexts, Tensor SubCaptions, Tensor Captions) : IDisposable
    {
        public void Dispose()
        {
            Pixels.Dispose();
            AltTexts.Dispose();
            SubCaptions.Dispose();
            Captions.Dispose();
        }
    }
}
