using OpenVision.Captioning;
using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

/// <summary>The tiny tower of <see cref="TinyModels"/>, vision-only, with a tiny OpenVision 2 decoder: 16 px images of
/// 2×2 patches (N = 4 tokens), captions of <see cref="TinyModels.QueryTokens"/> ids below <see cref="TinyModels.VocabSize"/>.</summary>
internal static class TinyCaptioning
{
    public static CaptionDecoderConfig Decoder() => new() { Width = 12, Depth = 2, NumHeads = 2, MlpDim = 24, VocabSize = TinyModels.VocabSize, VisionWidth = 16 };

    public static CaptioningTrainingModel Model(int seed, ScalarType dtype = ScalarType.Float32)
    {
        torch.manual_seed(seed);
        var model = new CaptioningTrainingModel(new OpenVisionModel(CaptioningTrainingModel.VisionOnly(TinyModels.Config())), Decoder());
        if (dtype != ScalarType.Float32) model.to(dtype);
        return model;
    }

    /// <summary>Rows [first, first + count) of a batch as a <see cref="TrainingBatch"/> (copies; the caller disposes it).</summary>
    public static TrainingBatch Slice(TinyModels.Batch data, int first, int count)
    {
        var keys = Enumerable.Range(first, count).Select(i => $"s{i}").ToList();
        return new TrainingBatch(keys, keys.Select(_ => -1).ToList(), data.Pixels.narrow(0, first, count).clone(),
            data.AltTexts.narrow(0, first, count).clone(), data.SubCaptions.narrow(0, first, count).clone(),
            data.Captions.narrow(0, first, count).clone(), 0, new DataPosition(0, first + count));
    }

    public static Dictionary<string, double[]> Gradients(TrainingModel model) =>
        model.NamedParameters().Where(p => p.Parameter.grad is not null)
            .ToDictionary(p => p.Name, p => p.Parameter.grad!.detach().cpu().to(ScalarType.Float64).data<double>().ToArray());
}
