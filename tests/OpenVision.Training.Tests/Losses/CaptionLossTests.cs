using OpenVision.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Losses;

public class CaptionLossTests
{
    [Fact]
    public void TargetsShiftLeftAndMaskCoversRealTokensIncludingEos()
    {
        using var scope = NewDisposeScope();
        var ids = torch.tensor(new long[,] { { 1, 5, 7, 2, 0, 0 }, { 1, 5, 7, 8, 9, 2 } });   // padded; truncated (full)
        var (targets, mask) = CaptionLoss.Targets(ids);
        Assert.Equal(new long[] { 5, 7, 2, 0, 0, 0, 5, 7, 8, 9, 2, 0 }, targets.data<long>().ToArray());
        Assert.Equal(new[] { true, true, true, false, false, false, true, true, true, true, true, false }, mask.data<bool>().ToArray());
    }

    // Uniform logits over V = 4: every token costs log 4, whatever the mask.
    [Fact]
    public void UniformLogitsCostLogVocab()
    {
        using var scope = NewDisposeScope();
        var logits = torch.zeros([2, 3, 4], ScalarType.Float64);
        var ids = torch.tensor(new long[,] { { 1, 3, 2 }, { 1, 2, 0 } });
        double n = 3;                                                    // real targets: 3, 2 | 2
        Assert.Equal(Math.Log(4) * n / (n + 1e-8), CaptionLoss.FromCaptionIds(logits, ids).item<double>(), 14);
    }

    // V = 2. Position 0: logits [0, 0], target 0 → log 2. Position 1: [ln 3, 0], target 0 → log(4/3).
    // Position 2 is masked although its target is hopeless (logit 100 on the wrong class).
    [Fact]
    public void MaskedPositionsDoNotCount()
    {
        using var scope = NewDisposeScope();
        var logits = torch.tensor(new double[] { 0, 0, Math.Log(3), 0, 0, 100 }).view(1, 3, 2);
        var targets = torch.tensor(new long[,] { { 0, 0, 0 } });
        var mask = torch.tensor(new[,] { { true, true, false } });
        double expected = (Math.Log(2) + Math.Log(4.0 / 3)) / (2 + 1e-8);
        Assert.Equal(expected, CaptionLoss.Compute(logits, targets, mask).item<double>(), 14);
    }

    [Fact]
    public void AllPadIsZeroNotNaN()
    {
        using var scope = NewDisposeScope();
        var logits = torch.randn([1, 4, 5], ScalarType.Float64);
        Assert.Equal(0.0, CaptionLoss.FromCaptionIds(logits, torch.zeros([1, 4], ScalarType.Int64)).item<double>());
    }

    // Token-level mean over the batch (not a mean of per-caption means): rows with more tokens weigh more.
    [Fact]
    public void MatchesNaiveFloat64Formula()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        int b = 2, q = 5, v = 7;
        var logits = torch.randn([b, q, v], ScalarType.Float64, generator: generator);
        var ids = torch.tensor(new long[,] { { 1, 4, 2, 0, 0 }, { 1, 6, 3, 5, 2 } });
        var flat = logits.data<double>().ToArray();
        var id = ids.data<long>().ToArray();
        double sum = 0, count = 0;
        for (int row = 0; row < b; row++)
            for (int i = 0; i < q; i++)
            {
                long target = i + 1 < q ? id[row * q + i + 1] : 0;
                if (target == 0) continue;
                var z = flat[((row * q + i) * v)..((row * q + i + 1) * v)];
                double max = z.Max();
                sum += max + Math.Log(z.Sum(x => Math.Exp(x - max))) - z[target];
                count++;
            }
        Assert.Equal(6, count);
        Assert.Equal(sum / (count + 1e-8), CaptionLoss.FromCaptionIds(logits, ids).item<double>(), 13);
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => CaptionLoss.Compute(torch.zeros(2, 3, 4), torch.zeros([2, 4], ScalarType.Int64), torch.ones(2, 4)));
        Assert.Throws<ArgumentException>(() => CaptionLoss.Targets(torch.zeros(2, 3)));
    }
}
