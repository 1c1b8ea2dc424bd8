using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Distributed;

/// <summary>Moves tensor data through <see cref="ICollectives"/>: CPU contiguous staging buffers whose memory the
/// collectives read and write in place, and buckets that pack many tensors into one buffer.</summary>
internal static class TensorBuffers
{
    /// <summary>The memory of <paramref name="buffer"/> (CPU, contiguous) as <typeparamref name="T"/>: libtorch's
    /// storage itself, so a collective writing into the span writes into the tensor.</summary>
    public static Span<T> Span<T>(Tensor buffer) where T : unmanaged
    {
        if (buffer.device_type != DeviceType.CPU || !buffer.is_contiguous()) throw new ArgumentException("collectives need a contiguous CPU buffer");
        return MemoryMarshal.Cast<byte, T>(buffer.bytes);
    }

    /// <summary>Groups <paramref name="tensors"/> (same dtype and device within a group) into buckets of at most
    /// <paramref name="bucketBytes"/> (a larger tensor gets a bucket of its own), keeping their order.</summary>
    public static IEnumerable<List<Tensor>> Buckets(IReadOnlyList<Tensor> tensors, long bucketBytes)
    {
        foreach (var group in tensors.GroupBy(t => (t.dtype, t.device.ToString())))
        {
            var bucket = new List<Tensor>();
            long bytes = 0;
            foreach (var t in group)
            {
                long size = t.numel() * t.ElementSize;
                if (bucket.Count > 0 && bytes + size > bucketBytes) { yield return bucket; bucket = []; bytes = 0; }
                bucket.Add(t);
                bytes += size;
            }
            if (bucket.Count > 0) yield return bucket;
        }
    }

    /// <summary>The bucket's tensors flattened into one new CPU contiguous tensor.</summary>
    public static Tensor Pack(IReadOnlyList<Tensor> bucket)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var flat = bucket.Count == 1 ? bucket[0].detach().reshape(-1).clone() : torch.cat(bucket.Select(t => t.detach().reshape(-1)).ToArray(), 0);
        return flat.cpu().contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Copies consecutive slices of <paramref name="flat"/> back into the bucket's tensors, optionally scaled.</summary>
    public static void Unpack(Tensor flat, IReadOnlyList<Tensor> bucket, double scale = 1)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        if (scale != 1) flat.mul_(scale);
        long offset = 0;
        foreach (var t in bucket)
        {
            long n = t.numel();
            t.copy_(flat.narrow(0, offset, n).view(t.shape));
            offset += n;
        }
    }
}
