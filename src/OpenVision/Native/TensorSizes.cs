using static TorchSharp.torch;

namespace OpenVision.Native;

/// <summary>A tensor's sizes without TorchSharp's <c>shape</c> property, for code that runs on every block: <c>shape</c>
/// fills a new array through a native-to-managed callback (about 1.8 µs on AMD Zen 5), <c>dim()</c> and
/// <c>size(i)</c> are plain calls (about 15 ns), and a vision block's checks and call read some thirty sizes.</summary>
internal static class TensorSizes
{
    /// <summary>True when <paramref name="tensor"/> has exactly these sizes.</summary>
    public static bool Are(Tensor tensor, params ReadOnlySpan<long> sizes)
    {
        if (tensor.dim() != sizes.Length) return false;
        for (int i = 0; i < sizes.Length; i++)
            if (tensor.size(i) != sizes[i]) return false;
        return true;
    }

    /// <summary>The size of the last dimension (the tensor must have one).</summary>
    public static long Last(Tensor tensor) => tensor.size((int)tensor.dim() - 1);

    /// <summary>The sizes with the last one replaced by <paramref name="last"/>.</summary>
    public static long[] WithLast(Tensor tensor, long last)
    {
        var sizes = new long[tensor.dim()];
        for (int i = 0; i < sizes.Length - 1; i++) sizes[i] = tensor.size(i);
        sizes[^1] = last;
        return sizes;
    }

    /// <summary>True when <paramref name="tensor"/> has the sizes of <paramref name="like"/> with the last one replaced
    /// by <paramref name="last"/>.</summary>
    public static bool AreLike(Tensor tensor, Tensor like, long last)
    {
        long dims = like.dim();
        if (dims < 1 || tensor.dim() != dims || tensor.size((int)dims - 1) != last) return false;
        for (int i = 0; i < dims - 1; i++)
            if (tensor.size(i) != like.size(i)) return false;
        return true;
    }
}
