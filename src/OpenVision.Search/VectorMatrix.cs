using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Search;

/// <summary>The committed rows of vectors.f32 as one float32 tensor [N, D], read straight into the tensor's memory
/// (no second copy).</summary>
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
}
