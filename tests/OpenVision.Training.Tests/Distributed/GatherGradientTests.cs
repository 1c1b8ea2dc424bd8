using OpenVision.Training.Distributed;
using OpenVision.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Distributed;

// The local-loss form with a differentiable gather, simulated with 2 ranks as 2 threads (float64): the mean of the
// ranks' losses and the averaged gradients equal the one-process loss and gradients of the global batch.
public sealed class GatherGradientTests
{
    private const int GlobalBatch = 4, Ranks = 2;

    [Fact]
    public void TwoRankLossAndGradientsEqualTheGlobalBatch()
    {
        var (loss, gradients) = SingleProcess();
        var perRank = TwoRanks(context => context);
        Assert.Equal(loss.Contrastive, perRank.Average(r => r.Loss.Contrastive), 12);
        Assert.Equal(loss.Caption, perRank.Average(r => r.Loss.Caption), 12);
        foreach (var rank in perRank)
            foreach (var (name, expected) in gradients)
                AssertClose(expected, rank.Gradients[name], 1e-10, name);
    }

    // The shortcut of gathering detached features and putting the local tensor back in its slot loses the gradient
    // that other ranks' losses send to this rank's features: with the local loss it is not the global gradient.
    [Fact]
    public void DetachedGatherWithLocalSliceIsNotExactForTheLocalLoss()
    {
        var (_, gradients) = SingleProcess();
        var perRank = TwoRanks(context => new DetachedGather(context));
        double worst = gradients.Max(g => g.Value.Zip(perRank[0].Gradients[g.Key], (a, b) => Math.Abs(a - b)).Max());
        Assert.True(worst > 1e-4, $"expected a visible gradient error, got {worst}");
    }

    [Fact]
    public void EveryRankEndsWithTheSameGradients()
    {
        var perRank = TwoRanks(context => context);
        foreach (var (name, values) in perRank[0].Gradients) Assert.Equal(values, perRank[1].Gradients[name]);
    }

    private static (Losses Loss, Dictionary<string, double[]> Gradients) SingleProcess()
    {
        using var model = TinyModels.Model(5, ScalarType.Float64);
        using var batch = TinyModels.MakeBatch(GlobalBatch, 11, ScalarType.Float64);
        using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
        losses.Total.backward();
        var (c, cap, _) = losses.ToDoubles();
        return (new Losses(c, cap), Gradients(model));
    }

    private static RankResult[] TwoRanks(Func<IDistributedContext, IDistributedContext> wrap)
    {
        // Models and data are made on this thread (the global generator is not for concurrent use), one model per rank.
        var models = Enumerable.Range(0, Ranks).Select(_ => TinyModels.Model(5, ScalarType.Float64)).ToArray();
        using var batch = TinyModels.MakeBatch(GlobalBatch, 11, ScalarType.Float64);
        const int local = GlobalBatch / Ranks;
        try
        {
            return new ThreadGroup(Ranks).Run(context =>
            {
                var ranks = wrap(context);
                var model = models[ranks.Rank];
                long first = ranks.Rank * local;
                using var losses = model.Forward(batch.Pixels.narrow(0, first, local), batch.AltTexts.narrow(0, first, local),
                    batch.SubCaptions.narrow(0, first, local), batch.Captions.narrow(0, first, local), ranks);
                losses.Total.backward();
                ranks.AllReduceMean(model.NamedParameters().Where(p => p.Parameter.grad is not null).Select(p => p.Parameter.grad!).ToList());
                var (c, cap, _) = losses.ToDoubles();
                return new RankResult(new Losses(c, cap), Gradients(model));
            });
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    private static Dictionary<string, double[]> Gradients(ClipsTrainingModel model) => model.NamedParameters()
        .Where(p => p.Parameter.grad is not null).ToDictionary(p => p.Name, p => p.Parameter.grad!.data<double>().ToArray());

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string name)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{name}[{i}]: {expected[i]} vs {actual[i]}");
    }

    private sealed record Losses(double Contrastive, double Caption);

    private sealed record RankResult(Losses Loss, Dictionary<string, double[]> Gradients);

    private sealed class DetachedGather(IDistributedContext inner) : IDistributedContext
    {
        public int Rank => inner.Rank;
        public int WorldSize => inner.WorldSize;
        public TimeSpan CommunicationTime => inner.CommunicationTime;
        public void AllReduceMean(IReadOnlyList<Tensor> tensors) => inner.AllReduceMean(tensors);
        public void AllReduceSum(Span<double> values) => inner.AllReduceSum(values);
        public void Broadcast(IReadOnlyList<Tensor> tensors) => inner.Broadcast(tensors);
        public void Barrier() => inner.Barrier();
        public void Abort(int errorCode) => inner.Abort(errorCode);
        public void Dispose() { }

        public Tensor AllGather(Tensor local)
        {
            using var all = inner.AllGather(local.detach());
            long b = local.shape[0];
            var parts = new List<Tensor>();
            if (Rank > 0) parts.Add(all.narrow(0, 0, Rank * b));
            parts.Add(local);
            if (Rank < WorldSize - 1) parts.Add(all.narrow(0, (Rank + 1) * b, (WorldSize - Rank - 1) * b));
            return torch.cat(parts, 0);
        }
    }
}
