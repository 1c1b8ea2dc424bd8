namespace OpenVision.Training.Evaluation.LinearModels;

/// <summary>Seeded, stratified sample selection for linear probes: k-shot subsets and a validation split carved
/// from the training set. The same labels and seed always give the same indices.</summary>
public static class ProbeSplits
{
    /// <summary>At most <paramref name="k"/> samples of each class (all of a class with fewer), drawn without
    /// replacement; returned in ascending index order.</summary>
    public static int[] FewShot(IReadOnlyList<long> labels, int k, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var random = new Random(seed);
        return ByClass(labels).SelectMany(members => Shuffle(members, random).Take(k)).Order().ToArray();
    }

    /// <summary>Splits <paramref name="indices"/> (a subset of the samples) into training and validation parts per
    /// class: round(n·fraction) of each class goes to validation, at least one and never the class's last sample,
    /// so every class with two or more samples is seen in both parts. Both parts are in ascending order.</summary>
    public static (int[] Train, int[] Validation) Validation(IReadOnlyList<long> labels, IReadOnlyList<int> indices, double fraction, int seed)
    {
        if (fraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(fraction), "the validation fraction must be in [0, 1)");
        var random = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        var subsetLabels = indices.Select(i => labels[i]).ToList();
        foreach (var members in ByClass(subsetLabels))
        {
            var shuffled = Shuffle(members.Select(m => indices[m]).ToList(), random);
            int take = fraction == 0 || shuffled.Count < 2 ? 0 : Math.Clamp((int)Math.Round(shuffled.Count * fraction), 1, shuffled.Count - 1);
            validation.AddRange(shuffled.Take(take));
            train.AddRange(shuffled.Skip(take));
        }
        return (train.Order().ToArray(), validation.Order().ToArray());
    }

    // Positions of each class's samples, classes in ascending label order, positions ascending.
    private static IEnumerable<List<int>> ByClass(IReadOnlyList<long> labels) =>
        Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToList());

    // Fisher–Yates with the caller's generator (System.Random with a seed is stable across .NET versions).
    private static List<int> Shuffle(List<int> items, Random random)
    {
        var result = new List<int>(items);
        for (int i = result.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (result[i], result[j]) = (result[j], result[i]);
        }
        return result;
    }
}
