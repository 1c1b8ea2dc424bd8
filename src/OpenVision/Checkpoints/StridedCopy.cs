namespace OpenVision.Checkpoints;

/// <summary>Copies a strided view of a storage (offset, sizes, strides in elements, as PyTorch records them) into a
/// new contiguous row-major byte array, after proving every element it touches lies inside the storage.</summary>
internal static class StridedCopy
{
    /// <summary>True when the strides are those of a contiguous row-major tensor (size-1 dimensions excepted).</summary>
    public static bool IsContiguous(long[] size, long[] stride)
    {
        long expected = 1;
        for (int d = size.Length - 1; d >= 0; d--)
        {
            if (size[d] != 1 && stride[d] != expected) return false;
            expected *= size[d];
        }
        return true;
    }

    /// <summary>Number of elements of a shape, or an error when it overflows.</summary>
    public static long ElementCount(long[] size, string file, string key)
    {
        long count = 1;
        try { foreach (long s in size) count = checked(count * s); }
        catch (OverflowException) { throw new CheckpointFormatException(file, $"tensor '{key}' shape [{string.Join(", ", size)}] overflows"); }
        return count;
    }

    /// <summary>Materializes the view; <paramref name="storageElements"/> bounds the indices it may read.</summary>
    public static byte[] Materialize(ReadOnlySpan<byte> storage, long storageElements, int elementSize,
        long offset, long[] size, long[] stride, string file, string key)
    {
        long count = ElementCount(size, file, key);
        if (count == 0) return [];
        long last = offset; // the largest element index the view reaches; strides are never negative in PyTorch
        try { for (int d = 0; d < size.Length; d++) last = checked(last + (size[d] - 1) * stride[d]); }
        catch (OverflowException) { last = long.MaxValue; }
        if (last >= storageElements)
            throw new CheckpointFormatException(file, $"tensor '{key}' (offset {offset}, size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}]) reaches element {last} of a {storageElements}-element storage");
        long bytes = count * elementSize;
        if (bytes > Array.MaxLength)
            throw new CheckpointFormatException(file, $"tensor '{key}' needs {bytes} bytes, more than one array can hold");

        var result = new byte[bytes];
        if (IsContiguous(size, stride))
        {
            storage.Slice(checked((int)(offset * elementSize)), (int)bytes).CopyTo(result);
            return result;
        }
        Gather(storage, elementSize, offset, size, stride, result);
        return result;
    }

    // Walks the outer dimensions with an odometer and copies the innermost dimension in one run when it is dense.
    private static void Gather(ReadOnlySpan<byte> storage, int elementSize, long offset, long[] size, long[] stride, byte[] result)
    {
        int rank = size.Length;
        long inner = size[rank - 1], innerStride = stride[rank - 1];
        var index = new long[rank - 1];
        long source = offset;
        int written = 0;
        while (true)
        {
            if (innerStride == 1)
            {
                int run = (int)(inner * elementSize);
                storage.Slice((int)(source * elementSize), run).CopyTo(result.AsSpan(written, run));
                written += run;
            }
            else
            {
                for (long i = 0; i < inner; i++, written += elementSize)
                    storage.Slice((int)((source + i * innerStride) * elementSize), elementSize).CopyTo(result.AsSpan(written, elementSize));
            }
            int d = rank - 2;
            for (; d >= 0; d--)
            {
                source += stride[d];
                if (++index[d] < size[d]) break;
                source -= stride[d] * size[d];
                index[d] = 0;
            }
            if (d < 0) return;
        }
    }
}
