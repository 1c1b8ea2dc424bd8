using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Search;

/// <summary>The committed rows of vectors.f32 as one float32 tensor [N, D], read straight into the tensor's memory
/// (no second copy), with exact top-k search by matrix product.</summary>
internal static class VectorMatrix
{
    private const int ChunkBytes = 1 << 26;

    public static Tensor Read(string path, long rows, int dimensions, long firstRow = 0)
    {
        var matrix = torch.empty([rows, dimensions], ScalarType.Float32);
        try
        {
            // Row blocks of at most 64 MiB: a tensor's byte span is int-sized, the matrix may not be.
            long rowsPerChunk = Math.Max(1, ChunkBytes / (dimensions * sizeof(float)));
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            stream.Position = firstRow * dimensions * sizeof(float);
            for (long row = 0; row < rows; row += rowsPerChunk)
            {
                using var block = matrix.narrow(0, row, Math.Min(rowsPerChunk, rows - row));
                try { stream.ReadExactly(block.bytes); }
                catch (EndOfStreamException) { throw new IndexFormatException(path, $"ends before row {row + block.shape[0]} of {rows}"); }
            }
            return matrix;
        }
        catch { matrix.Dispose(); throw; }
    }

    /// <summary>For each query row, the <paramref name="k"/> best rows of <paramref name="matrix"/> by dot product.</summary>
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
