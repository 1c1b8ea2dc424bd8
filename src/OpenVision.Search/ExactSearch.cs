using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Search;

/// <summary>Exact nearest neighbours by one matrix product and top-k: every row is scored, so results are exact
/// (for unit vectors, by cosine similarity).</summary>
public static class ExactSearch
{
    /// <summary>For each row of <paramref name="queries"/> [Q, D], the <paramref name="k"/> rows of <paramref name="matrix"/>
    /// [N, D] with the largest dot products, best first.</summary>
    public static (long[][] Rows, float[][] Scores) TopK(Tensor matrix, Tensor queries, int k)
    {
        using var scope = torch.NewDisposeScope();
        k = (int)Math.Min(k, matrix.shape[0]);
        int q = (int)queries.shape[0];
        if (k == 0) return (Enumerable.Range(0, q).Select(_ => Array.Empty<long>()).ToArray(), Enumerable.Range(0, q).Select(_ => Array.Empty<float>()).ToArray());
        var scores = queries.matmul(matrix.t());                       // [Q, N]
        var (values, indices) = scores.topk(k, dim: 1, largest: true, sorted: true);
        var flatValues = values.contiguous().data<float>().ToArray();
        var flatIndices = indices.contiguous().data<long>().ToArray();
        var rows = new long[q][];
        var best = new float[q][];
        for (int i = 0; i < q; i++)
        {
            rows[i] = flatIndices.AsSpan(i * k, k).ToArray();
            best[i] = flatValues.AsSpan(i * k, k).ToArray();
        }
        return (rows, best);
    }
}
