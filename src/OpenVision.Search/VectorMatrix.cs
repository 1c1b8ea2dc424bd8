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
                RequireFinite(path, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(block.bytes), dimensions, firstRow + row);
            }
            return matrix;
        }
        catch { matrix.Dispose(); throw; }
    }

    /// <summary>Refuses a NaN or infinite value: the model never writes one, so it is a damaged file, and a NaN
    /// similarity would otherwise sort first. One pass over data already in memory, next to the cost of reading it.</summary>
    public static void RequireFinite(string path, ReadOnlySpan<float> values, int dimensions, long firstRow)
    {
        // Non-finite floats are exactly those whose exponent bits are all ones.
        const uint exponent = 0x7F80_0000;
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(values);
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var mask = new System.Numerics.Vector<uint>(exponent);
            int width = System.Numerics.Vector<uint>.Count;
            for (; i <= bits.Length - width; i += width)
                if (System.Numerics.Vector.EqualsAny(new System.Numerics.Vector<uint>(bits.Slice(i, width)) & mask, mask)) break;
        }
        for (; i < bits.Length; i++)
            if ((bits[i] & exponent) == exponent)
                throw new IndexFormatException(path, $"row {firstRow + i / dimensions} holds a non-finite value ({values[i]}); the file is damaged");
    }
}
