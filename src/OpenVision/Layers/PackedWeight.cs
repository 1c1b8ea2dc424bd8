using System.Runtime.InteropServices;
using OpenVision.Native;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>A native kernel library's weight layout: how many bytes a packed [rows, columns] weight takes and how to
/// pack one.</summary>
internal interface IWeightPacker
{
    long PackedBytes(int rows, int columns);

    void Pack(IntPtr weight, int rows, int columns, IntPtr packed);
}

/// <summary>Packs a bfloat16 matrix stored as the one x multiplies ([K, N], x · W: the towers' output projections) in
/// another packer's layout of its transpose [N, K], so that the linear kernels compute x · W.</summary>
internal sealed unsafe class TransposedPacker(IWeightPacker inner) : IWeightPacker
{
    public long PackedBytes(int rows, int columns) => inner.PackedBytes(columns, rows);

    public void Pack(IntPtr weight, int rows, int columns, IntPtr packed)
    {
        var from = (ushort*)weight;
        var transposed = (ushort*)NativeMemory.Alloc((nuint)rows * (nuint)columns, sizeof(ushort));
        try
        {
            for (long r = 0; r < rows; r++)
                for (long c = 0; c < columns; c++)
                    transposed[c * rows + r] = from[r * columns + c];
            inner.Pack((IntPtr)transposed, columns, rows, packed);
        }
        finally
        {
            NativeMemory.Free(transposed);
        }
    }
}

/// <summary>One layer's weight in a kernel library's layout and its bias in float32, made on first use and kept;
/// thread-safe. Packed anew when the weight changes (see <see cref="PackedSource"/>) or another library asks.</summary>
internal sealed class PackedWeight : IDisposable
{
    private readonly object gate = new();
    private Packed? current;

    public Packed For(Tensor weight, Tensor? bias, IWeightPacker packer)
    {
        var source = PackedSource.Of(weight, bias, packer);
        var packed = Volatile.Read(ref current);
        if (packed is not null && packed.From == source) return packed;
        lock (gate)
        {
            packed = current;
            if (packed is not null && packed.From == source) return packed;
            var made = new Packed(bias, source);
            // The replaced one may still be in use by a forward on another thread: its finalizer frees it.
            Volatile.Write(ref current, made);
            return made;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            current?.Dispose();
            current = null;
        }
    }
}

/// <summary>What a packed weight was made from: the packer, the storage addresses, the shape, and 64 sampled 16-bit
/// words of the weight and the bias (four runs of 16), so that an in-place load (load_state_dict copies into the same
/// storage) is packed anew. A change that keeps every sampled word is not detected.</summary>
internal readonly record struct PackedSource(IWeightPacker Packer, IntPtr Weight, IntPtr Bias, long Rows, long Columns, ulong Sample)
{
    public static PackedSource Of(Tensor weight, Tensor? bias, IWeightPacker packer)
    {
        IntPtr weightAddress = TensorMemory.Address(weight), biasAddress = bias is null ? IntPtr.Zero : TensorMemory.Address(bias);
        ulong sample = Hash(weightAddress, Words(weight), bias is null ? 0 : Hash(biasAddress, Words(bias), 0));
        return new PackedSource(packer, weightAddress, biasAddress, weight.size(0), weight.size(1), sample);
    }

    private static long Words(Tensor tensor) => tensor.numel() * tensor.ElementSize / 2;

    // FNV-1a over 64 16-bit words in four runs of 16 (the first and the last words included), evenly spaced: four
    // cache lines to read on every call, where 64 scattered words were 64 (the weights themselves are cold: the
    // kernels read the packed copy).
    private static unsafe ulong Hash(IntPtr data, long count, ulong seed)
    {
        ulong hash = 14695981039346656037UL ^ seed;
        var words = (ushort*)data;
        long run = Math.Min(16, count);
        for (int r = 0; r < 4 && count > 0; r++)
        {
            long start = r * (count - run) / 3;
            for (long i = start; i < start + run; i++) hash = (hash ^ words[i]) * 1099511628211UL;
        }
        return hash;
    }
}

/// <summary>The packed weight (the packer's layout, 64-byte aligned) and the bias in float32 (null without one).</summary>
internal sealed unsafe class Packed : IDisposable
{
    private readonly long bytes;
    private int disposed;
    public readonly PackedSource From;
    public readonly IntPtr Weight;
    public readonly float* Bias;

    // The weight and bias are contiguous (the callers check it), so From's addresses are their first elements.
    public Packed(Tensor? bias, PackedSource from)
    {
        From = from;
        int rows = (int)from.Rows, columns = (int)from.Columns;
        bytes = from.Packer.PackedBytes(rows, columns);
        Weight = (IntPtr)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        GC.AddMemoryPressure(bytes);
        from.Packer.Pack(from.Weight, rows, columns, Weight);
        if (bias is not null)
        {
            Bias = (float*)NativeMemory.AlignedAlloc((nuint)rows * sizeof(float), 64);
            using var widened = bias.to(ScalarType.Float32).contiguous();
            new ReadOnlySpan<float>((void*)TensorMemory.Address(widened), rows).CopyTo(new Span<float>(Bias, rows));
        }
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    ~Packed() => Free();

    private void Free()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        NativeMemory.AlignedFree((void*)Weight);
        GC.RemoveMemoryPressure(bytes);
        if (Bias != null) NativeMemory.AlignedFree(Bias);
    }
}
