using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>A kernel library that computes a vision tower's first tokens in one call (openvision_schedule.h's
/// <c>run_embed</c>).</summary>
internal unsafe interface IEmbedKernels : IWeightPacker
{
    /// <summary>True when the library also takes float32 images for its own element type (rounding each pixel).</summary>
    bool EmbedsFloatPixels { get; }

    /// <summary><paramref name="floatPixels"/>: the images are float32 while the library's element type is not.</summary>
    void Embed(void* pixels, bool floatPixels, long batch, int channels, int side, int patch, IntPtr packed, int width, void* classToken,
        void* positions, void* patches, void* y, int threads);
}

/// <summary>The tokens [B, 1 + g², W] a vision tower's blocks start from, in one native call: the class token plus the
/// positional table's first row, then each p × p patch of the images times the patch embedding's filters plus the next
/// row. Around libtorch's convolution that was a patch copy, a concatenation and an addition, each a trip through the
/// managed layer and a pass over the tokens.</summary>
internal static unsafe class NativeEmbedding
{
    /// <summary>True when images [B, C, S, S] (S ≥ p), filters [W, C·p·p], a class token [W] and a table [1 + g², W]
    /// (g = S / p) go together and their sizes fit the kernels' 32-bit counts.</summary>
    public static bool Fit(Tensor pixels, int patch, Tensor filters, Tensor classToken, Tensor positions)
    {
        if (pixels.dim() != 4 || filters.dim() != 2 || patch <= 0) return false;
        long channels = pixels.size(1), side = pixels.size(2), width = filters.size(0), grid = side / patch;
        return side == pixels.size(3) && side >= patch && side <= int.MaxValue / 4 && channels <= int.MaxValue / 4
            && filters.size(1) == channels * patch * patch && width <= int.MaxValue / 4
            && TensorSizes.Are(classToken, width) && TensorSizes.Are(positions, 1 + grid * grid, width)
            && classToken.is_contiguous() && positions.is_contiguous();
    }

    /// <summary>The tokens (the operands checked by the caller with <see cref="Fit"/> and its own type checks).</summary>
    public static Tensor Run(Tensor pixels, int patch, Tensor filters, PackedWeight cache, Tensor classToken, Tensor positions, IEmbedKernels kernels)
    {
        long batch = pixels.size(0), channels = pixels.size(1), side = pixels.size(2), grid = side / patch, width = filters.size(0);
        var packed = cache.For(filters, null, kernels);
        using var input = pixels.contiguous();
        // Float32 images for a model of another type are rounded to it as the patches are cut out (the caller checked
        // EmbedsFloatPixels), as a cast would round them.
        bool floatPixels = pixels.dtype != filters.dtype;
        using var patches = torch.empty([batch * grid * grid, channels * patch * patch], filters.dtype);
        var y = torch.empty([batch, 1 + grid * grid, width], filters.dtype);
        if (batch > 0)
            kernels.Embed((void*)TensorMemory.Address(input), floatPixels, batch, (int)channels, (int)side, patch, packed.Weight, (int)width,
                (void*)TensorMemory.Address(classToken), (void*)TensorMemory.Address(positions), (void*)TensorMemory.Address(patches),
                (void*)TensorMemory.Address(y), torch.get_num_threads());
        GC.KeepAlive(packed);
        return y;
    }
}
