using OpenVision.Training.Models;
using TorchSharp;

namespace OpenVision.Training.Tests.Models;

// The caption-only objective's token subsets: uniform without replacement, reproducible, fresh per step and sample.
public class PatchSubsetTests
{
    private const int Tokens = 6, Keep = 2, Draws = 30_000;

    // Every ordered pair of distinct indices (6·5 = 30 cells) must be equally likely. Pearson's statistic over the cells
    // is then χ² with 29 degrees of freedom; the bound is its upper 1e-6 quantile (Wilson–Hilferty, z = 4.753), so a
    // correct sampler fails about once in a million runs, and the biased samplers below fail far beyond it.
    [Fact]
    public void OrderedSubsetsAreUniformWithoutReplacement()
    {
        var draws = Enumerable.Range(0, Draws).Select(i => PatchSubset.Draw(seed: 3, step: i / 100, sample: i % 100, Tokens, Keep)).ToList();
        Assert.All(draws, d => Assert.Equal(Keep, d.Distinct().Count()));                     // without replacement
        Assert.All(draws, d => Assert.All(d, i => Assert.InRange(i, 0, Tokens - 1)));
        double statistic = ChiSquare(draws), bound = ChiSquareBound(Tokens * (Tokens - 1) - 1);
        Assert.True(statistic < bound, $"χ² {statistic:F1} ≥ {bound:F1}");

        // Negative controls: sorted subsets (the right sets, the wrong order) and draws with replacement fail.
        var sorted = draws.Select(d => d.Order().ToArray()).ToList();
        Assert.True(ChiSquare(sorted) > bound, "sorted subsets passed the uniformity check");
        var random = new Random(1);
        var withReplacement = Enumerable.Range(0, Draws).Select(_ => new[] { random.Next(Tokens), random.Next(Tokens) }).ToList();
        Assert.True(withReplacement.Any(d => d[0] == d[1]), "the control should repeat indices");
    }

    [Fact]
    public void DrawsAreReproducibleAndDifferAcrossSeedsStepsAndSamples()
    {
        const int tokens = 64, keep = 22;   // equal subsets by chance: probability ~ 1 / (64!/42!), nil
        var baseline = PatchSubset.Draw(7, 5, 11, tokens, keep);
        Assert.Equal(baseline, PatchSubset.Draw(7, 5, 11, tokens, keep));
        Assert.NotEqual(baseline, PatchSubset.Draw(8, 5, 11, tokens, keep));
        Assert.NotEqual(baseline, PatchSubset.Draw(7, 6, 11, tokens, keep));
        Assert.NotEqual(baseline, PatchSubset.Draw(7, 5, 12, tokens, keep));

        // A batch's rows are the per-sample draws, so a rank or micro-batch starting at sample s draws what one process does.
        using var rows = PatchSubset.Indices(7, 5, firstSample: 10, batch: 3, tokens, keep);
        Assert.Equal([3L, keep], rows.shape);
        for (int b = 0; b < 3; b++)
            Assert.Equal(PatchSubset.Draw(7, 5, 10 + b, tokens, keep).Select(i => (long)i), rows[b].data<long>().ToArray());
    }

    // num_keep = int(N · keep_ratio) as Python computes it on doubles.
    [Theory]
    [InlineData(196, 0.35, 68)]
    [InlineData(16, 0.35, 5)]
    [InlineData(100, 0.29, 28)]     // 100 · 0.29 = 28.999999999999996 in doubles
    [InlineData(36, 1.0, 36)]
    [InlineData(2, 0.25, 1)]        // never zero tokens
    public void KeptCountIsPythonsIntOfTheProduct(int tokens, double ratio, int expected) =>
        Assert.Equal(expected, PatchSubset.KeptCount(tokens, ratio));

    [Fact]
    public void GatherTakesTheIndexedTokensInOrder()
    {
        using var tokens = torch.arange(2 * 4 * 3, dtype: torch.ScalarType.Float64).reshape(2, 4, 3);
        using var indices = torch.tensor(new long[] { 3, 0, 1, 2 }, [2, 2]);
        using var kept = PatchSubset.Gather(tokens, indices);
        Assert.Equal(new double[] { 9, 10, 11, 0, 1, 2, 15, 16, 17, 18, 19, 20 }, kept.data<double>().ToArray());
    }

    private static double ChiSquare(List<int[]> draws)
    {
        var counts = new Dictionary<(int, int), int>();
        foreach (var d in draws) counts[(d[0], d[1])] = counts.GetValueOrDefault((d[0], d[1])) + 1;
        double expected = (double)draws.Count / (Tokens * (Tokens - 1));
        double statistic = 0;
        for (int i = 0; i < Tokens; i++)
            for (int j = 0; j < Tokens; j++)
                if (i != j) statistic += Math.Pow(counts.GetValueOrDefault((i, j)) - expected, 2) / expected;
        return statistic;
    }

    // Wilson–Hilferty: χ²_k quantile ≈ k (1 − 2/(9k) + z √(2/(9k)))³; z = 4.753 is the standard normal's 1 − 1e-6 quantile.
    private static double ChiSquareBound(int degrees)
    {
        double c = 2.0 / (9 * degrees);
        return degrees * Math.Pow(1 - c + 4.753 * Math.Sqrt(c), 3);
    }
}
