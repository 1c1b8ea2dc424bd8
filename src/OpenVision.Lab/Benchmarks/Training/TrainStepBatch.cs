using OpenVision.Checkpoints;
using OpenVision.Lab.Datasets;
using OpenVision.Text;
using OpenVision.Training;
using OpenVision.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>One fixed training batch (the trainer's <see cref="TrainingBatch"/>) for timing: normal pixels and real
/// token layouts (generated Fashion-MNIST alt-texts and 3–5 sentence captions through OpenVision's tokenizer), so the
/// caption loss sees realistic lengths.</summary>
/// <remarks>Tensor names in <see cref="Export"/>: <c>pixels</c> [B, 3, S, S] float32, <c>alt_text_ids</c> and
/// <c>sub_caption_ids</c> [B, L] int64, <c>caption_ids</c> [B, Q] int64.</remarks>
public static class TrainStepBatch
{
    /// <summary>A batch determined by <paramref name="seed"/> and the sizes.</summary>
    public static TrainingBatch Create(int batchSize, int imageSize, int contextLength, int captionTokens, int seed)
    {
        var texts = new TrainingTexts(OpenVisionTokenizer.CreateDefault(contextLength), captionTokens);
        var alt = new long[batchSize * contextLength];
        var sub = new long[batchSize * contextLength];
        var caption = new long[batchSize * captionTokens];
        var grey = new byte[28 * 28];
        for (int i = 0; i < batchSize; i++)
        {
            var random = new DataRandom(seed, i);
            foreach (ref byte p in grey.AsSpan()) p = (byte)random.NextInt(256);   // drives the caption's tone sentence
            int label = i % 10;
            texts.Encode(FashionMnistCaptions.AltText(label, random), FashionMnistCaptions.Caption(label, grey, random), random,
                alt.AsSpan(i * contextLength, contextLength), sub.AsSpan(i * contextLength, contextLength),
                caption.AsSpan(i * captionTokens, captionTokens));
        }
        var pixels = torch.randn([batchSize, 3, imageSize, imageSize], generator: new Generator((ulong)seed));
        return Batch(pixels, torch.tensor(alt, [batchSize, contextLength]), torch.tensor(sub, [batchSize, contextLength]),
            torch.tensor(caption, [batchSize, captionTokens]));
    }

    /// <summary>The four tensors by their file names, for a safetensors file.</summary>
    public static Dictionary<string, TensorData> Export(TrainingBatch batch) => new()
    {
        ["pixels"] = TensorData.FromTorch(batch.Pixels),
        ["alt_text_ids"] = TensorData.FromTorch(batch.AltTextIds),
        ["sub_caption_ids"] = TensorData.FromTorch(batch.SubCaptionIds),
        ["caption_ids"] = TensorData.FromTorch(batch.CaptionIds),
    };

    /// <summary>Reads a batch written from <see cref="Export"/>.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing.</exception>
    public static TrainingBatch Read(string path)
    {
        var tensors = SafetensorsFile.Read(path);
        Tensor Get(string name) => tensors.TryGetValue(name, out var t) ? t.ToTorch()
            : throw new CheckpointFormatException(path, $"no tensor '{name}' (a train-step batch has pixels, alt_text_ids, sub_caption_ids, caption_ids)");
        return Batch(Get("pixels"), Get("alt_text_ids"), Get("sub_caption_ids"), Get("caption_ids"));
    }

    // The trainer's batch type, with synthetic keys: the benchmark feeds exactly what a training step receives.
    private static TrainingBatch Batch(Tensor pixels, Tensor altTextIds, Tensor subCaptionIds, Tensor captionIds)
    {
        int count = (int)pixels.shape[0];
        return new TrainingBatch(Enumerable.Range(0, count).Select(i => $"train-step:{i}").ToList(), Enumerable.Repeat(-1, count).ToList(),
            pixels, altTextIds, subCaptionIds, captionIds, WithoutCaption: 0, DataPosition.Start);
    }
}
