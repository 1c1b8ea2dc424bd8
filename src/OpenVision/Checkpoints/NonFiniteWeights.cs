using System.Buffers.Binary;

namespace OpenVision.Checkpoints;

/// <summary>Finds NaN and infinite values in floating-point weights, which would otherwise load without a word and
/// turn every output into NaN.</summary>
public static class NonFiniteWeights
{
    /// <summary>Every floating-point tensor holding NaN or infinite values, in key order, with the counts of each.</summary>
    public static IReadOnlyList<(string Name, long NaN, long Infinite)> Find(IReadOnlyDictionary<string, TensorData> tensors)
    {
        var found = new List<(string, long, long)>();
        foreach (var (key, tensor) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var (nan, infinite) = Count(tensor);
            if (nan + infinite > 0) found.Add((key, nan, infinite));
        }
        return found;
    }

    /// <summary>Throws <see cref="CheckpointFormatException"/> for <paramref name="source"/> naming the first offending
    /// tensors and their counts, unless every floating-point value is finite.</summary>
    public static void ThrowIfAny(IReadOnlyDictionary<string, TensorData> tensors, string source)
    {
        var found = Find(tensors);
        if (found.Count == 0) return;
        string list = string.Join(", ", found.Take(4).Select(f => $"{f.Name} ({Describe(f.NaN, f.Infinite)})"));
        string more = found.Count > 4 ? $" and {found.Count - 4} more tensors" : "";
        throw new CheckpointFormatException(source,
            $"non-finite weights in {list}{more}; the model would output NaN (ModelLoadOptions.AllowNonFiniteWeights loads it anyway)");
    }

    /// <summary>NaN and infinite values in one tensor; integer and boolean tensors have neither.</summary>
    public static (long NaN, long Infinite) Count(TensorData tensor) => tensor.DType switch
    {
        // Per IEEE 754: all exponent bits set means infinite (zero mantissa) or NaN (any other mantissa).
        TensorDType.F16 => Count16(tensor.Bytes, 0x7C00, 0x03FF),
        TensorDType.BF16 => Count16(tensor.Bytes, 0x7F80, 0x007F),
        TensorDType.F32 => Count32(tensor.Bytes),
        TensorDType.F64 => Count64(tensor.Bytes),
        _ => (0, 0),
    };

    private static (long, long) Count16(byte[] bytes, ushort exponent, ushort mantissa)
    {
        long nan = 0, infinite = 0;
        for (int i = 0; i + 2 <= bytes.Length; i += 2)
        {
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i));
            if ((bits & exponent) != exponent) continue;
            if ((bits & mantissa) != 0) nan++; else infinite++;
        }
        return (nan, infinite);
    }

    private static (long, long) Count32(byte[] bytes)
    {
        long nan = 0, infinite = 0;
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes);
        foreach (float v in values)
        {
            if (float.IsFinite(v)) continue;
            if (float.IsNaN(v)) nan++; else infinite++;
        }
        return (nan, infinite);
    }

    private static (long, long) Count64(byte[] bytes)
    {
        long nan = 0, infinite = 0;
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes);
        foreach (double v in values)
        {
            if (double.IsFinite(v)) continue;
            if (double.IsNaN(v)) nan++; else infinite++;
        }
        return (nan, infinite);
    }

    private static string Describe(long nan, long infinite) =>
        nan > 0 && infinite > 0 ? $"{nan} NaN, {infinite} infinite" : nan > 0 ? $"{nan} NaN" : $"{infinite} infinite";
}
