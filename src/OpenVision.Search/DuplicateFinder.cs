using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Search;

/// <summary>Near-duplicate groups by exact all-pairs cosine similarity, a block of rows at a time (memory stays at
/// block × N scores), joined with union-find: a group is a connected component of the "similarity ≥ threshold" graph.</summary>
internal static class DuplicateFinder
{
    private const int BlockRows = 1024;

    public static IReadOnlyList<DuplicateGroup> Find(Tensor matrix, IReadOnlyList<IndexItem> items, double threshold, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        if (threshold is <= -1 or > 1 || double.IsNaN(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), "the threshold is a cosine similarity in (−1, 1]");
        long n = matrix.shape[0];
        var parent = new long[n];
        var weakest = new Dictionary<long, float>();
        for (long i = 0; i < n; i++) parent[i] = i;
        using var limit = torch.tensor((float)threshold);
        for (long start = 0; start < n; start += BlockRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            long rows = Math.Min(BlockRows, n - start);
            var block = matrix.narrow(0, start, rows);
            // Only pairs (i, j) with j > i: the block's columns from start on, strictly above its diagonal.
            var scores = block.matmul(matrix.narrow(0, start, n - start).t()).triu(1);   // [rows, n − start]
            var pairs = scores.ge(limit).nonzero();                                          // [P, 2]
            if (pairs.shape[0] > 0)
            {
                var flat = pairs.contiguous().data<long>().ToArray();
                var values = scores.index([pairs[.., 0], pairs[.., 1]]).data<float>().ToArray();
                for (int p = 0; p < values.Length; p++)
                    Union(parent, weakest, start + flat[2 * p], start + flat[2 * p + 1], values[p]);
            }
            progress?.Report(start + rows);
        }
        var groups = new Dictionary<long, List<long>>();
        for (long i = 0; i < n; i++)
        {
            long root = Find(parent, i);
            if (!groups.TryGetValue(root, out var members)) groups[root] = members = [];
            members.Add(i);
        }
        return groups.Values.Where(g => g.Count > 1)
            .Select(g => new DuplicateGroup(g, g.Select(r => items[(int)r]).ToList(), weakest[Find(parent, g[0])]))
            .OrderByDescending(g => g.Rows.Count).ThenBy(g => g.Rows[0]).ToList();
    }

    private static long Find(long[] parent, long i)
    {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    }

    private static void Union(long[] parent, Dictionary<long, float> weakest, long a, long b, float score)
    {
        long ra = Find(parent, a), rb = Find(parent, b);
        float low = Math.Min(score, Math.Min(weakest.GetValueOrDefault(ra, float.PositiveInfinity), weakest.GetValueOrDefault(rb, float.PositiveInfinity)));
        if (ra != rb) { parent[Math.Max(ra, rb)] = Math.Min(ra, rb); weakest.Remove(Math.Max(ra, rb)); }
        weakest[Math.Min(ra, rb)] = low;
    }
}
