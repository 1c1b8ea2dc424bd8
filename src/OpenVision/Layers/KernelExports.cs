using System.Runtime.InteropServices;

namespace OpenVision.Layers;

/// <summary>The exports both kernel libraries have under their prefix (<c>ov_f32_</c>, <c>ov_bf16_</c>) with the same
/// signature, elements passed untyped: init, weight packing, the scratch a block needs, a stack of blocks, the tokens.</summary>
internal abstract unsafe class KernelExports(IntPtr library, string prefix) : IBlockKernels, IEmbedKernels
{
    public readonly delegate* unmanaged<int> Init = (delegate* unmanaged<int>)Export(library, prefix, "init");
    private readonly delegate* unmanaged<int, int, long> packedBytes = (delegate* unmanaged<int, int, long>)Export(library, prefix, "packed_bytes");
    private readonly delegate* unmanaged<IntPtr, int, int, IntPtr, void> pack = (delegate* unmanaged<IntPtr, int, int, IntPtr, void>)Export(library, prefix, "pack");
    private readonly delegate* unmanaged<long, int, int, long> blockScratch = (delegate* unmanaged<long, int, int, long>)Export(library, prefix, "block_scratch");
    private readonly delegate* unmanaged<void*, long, int, NativeBlock.Layers*, int, void*, void*, void*, int, void> tower =
        (delegate* unmanaged<void*, long, int, NativeBlock.Layers*, int, void*, void*, void*, int, void>)Export(library, prefix, "tower");
    private readonly delegate* unmanaged<void*, long, int, int, int, IntPtr, int, void*, void*, void*, void*, int, void> embed =
        (delegate* unmanaged<void*, long, int, int, int, IntPtr, int, void*, void*, void*, void*, int, void>)Export(library, prefix, "embed");

    // Float32 images for a library of another element type, rounded as they are cut out (bfloat16's); null where absent.
    private readonly delegate* unmanaged<void*, long, int, int, int, IntPtr, int, void*, void*, void*, void*, int, void> embedFloat =
        NativeLibrary.TryGetExport(library, $"ov_{prefix}_embed_float", out var address)
            ? (delegate* unmanaged<void*, long, int, int, int, IntPtr, int, void*, void*, void*, void*, int, void>)address : null;

    protected static IntPtr Export(IntPtr library, string prefix, string name) => NativeLibrary.GetExport(library, $"ov_{prefix}_{name}");

    public bool EmbedsFloatPixels => embedFloat != null;

    public long PackedBytes(int rows, int columns) => packedBytes(rows, columns);

    public void Pack(IntPtr weight, int rows, int columns, IntPtr packed) => pack(weight, rows, columns, packed);

    public long BlockScratch(long rows, int width, int hidden) => blockScratch(rows, width, hidden);

    public void Tower(void* x, long batch, int tokens, NativeBlock.Layers* layers, int count, void* scratch, void* y, void* spare, int threads) =>
        tower(x, batch, tokens, layers, count, scratch, y, spare, threads);

    public void Embed(void* pixels, bool floatPixels, long batch, int channels, int side, int patch, IntPtr packed, int width, void* classToken,
        void* positions, void* patches, void* y, int threads)
    {
        // Float32 pixels through the plain export would be read as this library's element type: refuse, never guess.
        if (floatPixels && embedFloat == null)
            throw new InvalidOperationException($"this kernel library does not take float32 images ({nameof(EmbedsFloatPixels)} is false)");
        (floatPixels ? embedFloat : embed)(pixels, batch, channels, side, patch, packed, width, classToken, positions, patches, y, threads);
    }
}
