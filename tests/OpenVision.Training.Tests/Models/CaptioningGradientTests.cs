using OpenVision.Training.Data;
using OpenVision.Training.Distributed;
using OpenVision.Training.Tests.Distributed;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

// The caption-only objective's gradients: finite differences against autograd in float64, and exact accumulation over
// micro-batches and ranks (each image reads the tokens its global sample index draws, wherever it is computed).
public class CaptioningGradientTests(ITestOutputHelper output)
{
    private const int Batch = 8;
    private static readonly TrainStepContext Step = new(Step: 3, Seed: 7, KeepRatio: 0.5);

    public static TheoryData<string, int> Elements => new()
    {
        { "caption_decoder.token_embedding.weight", 14 },
        { "caption_decoder.image_projection.weight", 5 },
        { "caption_decoder.blocks.0.attn.in_proj_weight", 30 },
        { "caption_decoder.blocks.1.mlp.c_fc.weight", 9 },
        { "caption_decoder.blocks.1.attn.out_proj.bias", 2 },
        { "caption_decoder.ln_final.weight", 2 },
        { "caption_decoder.lm_head.weight", 40 },
        { "visual.conv1.weight", 17 },
        { "visual.class_embedding", 3 },
        { "visual.transformer.resblocks.1.attn.out_proj.weight", 21 },
    };

    [Theory]
    [MemberData(nameof(Elements))]
    public void AutogradMatchesFiniteDifferences(string name, int index)
    {
        using var model = TinyCaptioning.Model(31, ScalarType.Float64);
        using var data = TinyModels.MakeBatch(3, seed: 32, ScalarType.Float64);
        using var kept = model.KeptTokens(Step, 0, data.Pixels);
        var parameter = model.NamedParameters().Single(p => p.Name == name).Parameter;
        double analytic;
        using (var loss = model.CaptionLoss(data.Pixels, data.Captions, kept))
        {
            (loss * model.CaptionWeight).backward();
            using var grad = parameter.grad!.flatten();
            analytic = grad[index].item<double>();
        }
        FiniteDifferences.AssertAgrees(output, name, parameter, index, analytic, () =>
        {
            using var loss = model.CaptionLoss(data.Pixels, data.Captions, kept);
            return model.CaptionWeight * loss.item<double>();
        });
    }

    [Fact]
    public void BackwardIsTheWeightedLossOfTheDrawnTokens()
    {
        using var data = TinyModels.MakeBatch(Batch, seed: 11, ScalarType.Float64);
        using var model = TinyCaptioning.Model(5, ScalarType.Float64);
        using var batch = TinyCaptioning.Slice(data, 0, Batch);
        var (contrastive, caption, total) = model.Backward([batch], SingleProcessContext.Instance, Step);
        using var kept = model.KeptTokens(Step, 0, data.Pixels);
        using var loss = model.CaptionLoss(data.Pixels, data.Captions, kept);
        Assert.Equal(0, contrastive);
        Assert.Equal(loss.item<double>(), caption, 12);
        Assert.Equal(2 * caption, total, 12);
    }

    [Fact]
    public void FourMicroBatchesGiveTheWholeBatchLossAndGradients()
    {
        using var data = TinyModels.MakeBatch(Batch, seed: 11, ScalarType.Float64);
        var whole = Run(data, [(0, Batch)], Step);
        var accumulated = Run(data, [(0, 2), (2, 2), (4, 2), (6, 2)], Step);
        Assert.Equal(whole.Caption, accumulated.Caption, 12);
        AssertSame(whole.Gradients, accumulated.Gradients);
        // Negative control: another step draws other tokens, and the gradients differ visibly.
        var otherStep = Run(data, [(0, Batch)], Step with { Step = 4 });
        Assert.True(whole.Gradients.Max(g => Difference(g.Value, otherStep.Gradients[g.Key])) > 1e-4, "the token subset did not change the gradients");
    }

    // 2 ranks × 2 micro-batches: rank r holds rows m·4 + r·2 .. +2 of every global micro-batch (RankBatches' split).
    [Fact]
    public void TwoRanksWithAccumulationGiveTheWholeBatchGradients()
    {
        const int ranks = 2, accumulation = 2, globalMicro = Batch / accumulation, local = globalMicro / ranks;
        using var data = TinyModels.MakeBatch(Batch, seed: 11, ScalarType.Float64);
        var whole = Run(data, [(0, Batch)], Step);
        var models = Enumerable.Range(0, ranks).Select(_ => TinyCaptioning.Model(5, ScalarType.Float64)).ToArray();
        try
        {
            var perRank = new ThreadGroup(ranks).Run(context =>
            {
                var model = models[context.Rank];
                var parts = Enumerable.Range(0, accumulation).Select(m => TinyCaptioning.Slice(data, m * globalMicro + context.Rank * local, local)).ToList();
                var (_, caption, _) = model.Backward(parts, context, Step);
                parts.ForEach(p => p.Dispose());
                context.AllReduceMean(model.NamedParameters().Where(p => p.Parameter.grad is not null).Select(p => p.Parameter.grad!).ToList());
                return (Caption: caption, Gradients: TinyCaptioning.Gradients(model));
            });
            Assert.Equal(whole.Caption, perRank.Average(r => r.Caption), 12);
            foreach (var rank in perRank) AssertSame(whole.Gradients, rank.Gradients);
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    private static (double Caption, Dictionary<string, double[]> Gradients) Run(TinyModels.Batch data, (int First, int Count)[] parts, TrainStepContext step)
    {
        using var model = TinyCaptioning.Model(5, ScalarType.Float64);
        var batches = parts.Select(p => TinyCaptioning.Slice(data, p.First, p.Count)).ToList();
        try
        {
            var (_, caption, _) = model.Backward(batches, SingleProcessContext.Instance, step);
            return (caption, TinyCaptioning.Gradients(model));
        }
        finally { batches.ForEach(b => b.Dispose()); }
    }

    // Sums of a few dozen float64 terms in a different grouping: relative differences are rounding, far below 1e-9.
    private static void AssertSame(Dictionary<string, double[]> expected, Dictionary<string, double[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, values) in expected)
        {
            double scale = Math.Max(values.Max(Math.Abs), 1e-30);
            Assert.True(Difference(values, actual[name]) <= 1e-9 * scale, $"{name} differs");
        }
    }

    private static double Difference(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
}
