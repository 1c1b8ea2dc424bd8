using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>Whole float32 vision blocks at inference through <c>libopenvision_f32.so</c> (AVX-512 fused multiply-adds,
/// one native call and one parallel region per block, or per stack of blocks) where the CPU has AVX-512, through
/// <c>libopenvision_f32_avx2.so</c> (the same with AVX2) where it has AVX2 and FMA only; elsewhere, and for anything the
/// kernels do not cover, libtorch's operations. On two AMD Zen 4 cores libtorch's MKL runs ViT-Tiny's and ViT-Base's linear
/// layers at batch 1 at 120–175 GFLOP/s and its attention at a third of that; the kernel runs the linear layers at
/// 175–210 GFLOP/s (docs/speed.md). The arithmetic is libtorch's in float32 with other summation orders: features agree
/// with libtorch's path within float32 round-off, and every output element is one sum in a fixed order, so a block's
/// output for an image does not depend on the batch it came in (for larger blocks up to <see cref="MaxRows"/>), the
/// thread count or the thread layout. Larger batches of larger blocks run through libtorch, whose GEMMs block for the
/// cache and were as fast there.</summary>
/// <remarks>Used for inference only: not when autograd records (grad mode on and a tensor requires grad). Each
/// layer's packed weight is made on its first call and kept: the vision tower's weights are held twice (ViT-B/16 86M
/// parameters, 340 MB more). <c>OPENVISION_F32_KERNELS=0</c> keeps libtorch's operations.</remarks>
internal static unsafe class Float32Ops
{
    public const string ShimFileName = "libopenvision_f32.so";

    /// <summary>The same kernels with AVX2 and FMA (<c>openvision_f32_avx2.c</c>), for CPUs without AVX-512.</summary>
    public const string Avx2ShimFileName = "libopenvision_f32_avx2.so";

    private const string OptOutVariable = "OPENVISION_F32_KERNELS";

    private static readonly KernelLibrary<Kernels> Avx512Library =
        new(ShimFileName, OptOutVariable, handle => new Kernels(handle), kernels => kernels.Init(), "AVX-512 float32 kernels", "AVX-512");

    private static readonly KernelLibrary<Kernels> Avx2Library =
        new(Avx2ShimFileName, OptOutVariable, handle => new Kernels(handle), kernels => kernels.Init(), "AVX2 float32 kernels", "AVX2 and FMA");

    private static readonly Lazy<KernelLibrary<Kernels>> ChosenLibrary = new(Choose);

    private static KernelLibrary<Kernels> Library => ChosenLibrary.Value;

    // AVX-512 where the CPU has it; AVX2 where it has only that, or where OPENVISION_F32_KERNELS=avx2 asks for it (to
    // compare the two on one machine).
    private static KernelLibrary<Kernels> Choose() =>
        Environment.GetEnvironmentVariable(OptOutVariable) == "avx2" || (Avx512Library.Kernels is null && Avx512Library.LacksInstructions)
            ? Avx2Library
            : Avx512Library;

    /// <summary>The AVX2 kernels wherever the CPU has AVX2 and FMA, whichever library the model uses; null elsewhere.
    /// Tests run them against the AVX-512 ones on CPUs that have both.</summary>
    internal static Kernels? Avx2Kernels => Avx2Library.Kernels;

    /// <summary>"AVX-512 float32 kernels", "AVX2 float32 kernels", or why libtorch's operations run.</summary>
    public static string Status => Library.Status;

    public static bool Available => Library.Kernels is not null;

    /// <summary>The most rows (images × tokens) a block with more than <see cref="SmallBlockBytes"/> of weights runs
    /// through the kernels: beyond, libtorch's cache-blocked GEMMs were as fast or faster (own blocks / libtorch's
    /// operations, ViT-B/16 and L/14: 197 rows 1.29–1.77× and 257 rows 1.17× on Zen 4; 1,576 rows 0.98–0.99× on Zen 4,
    /// 0.99–1.05× on Zen 5; 2,056 rows 0.91× and 0.95×; 6,304 rows 0.97× and 1.00–1.02×; docs/speed.md).</summary>
    public const long MaxRows = 1024;

    /// <summary>Blocks whose four weight matrices take at most this many bytes (ViT-Ti's 1.8 MB; ViT-S has 7 MB) run
    /// through the kernels at any batch size: each thread then carries its own rows through the whole block
    /// (openvision_schedule.h), which beat libtorch at every batch size measured (ViT-Ti/16 batch 8 1.00–1.12×, batch
    /// 32 0.97–1.07× on Zen 4 and Zen 5), and an image's features do not depend on its batch at all.</summary>
    public const long SmallBlockBytes = 4L << 20;

    private static volatile bool suspended;

    /// <summary>Runs float32 blocks through libtorch's operations, process-wide, until the returned scope is disposed:
    /// <c>bench --libtorch-ops</c> times both ways in one run.</summary>
    internal static IDisposable UseLibtorchOperations()
    {
        var scope = new Suspension(suspended);
        suspended = true;
        return scope;
    }

    private sealed class Suspension(bool previous) : IDisposable
    {
        public void Dispose() => suspended = previous;
    }

    /// <summary>A whole pre-norm block with exact GELU and no mask, x1 = x + out(attention(qkv(LN1(x)))), then
    /// x1 + proj(GELU(fc(LN2(x1)))), as one native call; null where it does not apply (then the caller runs the
    /// operations).</summary>
    public static Tensor? Block(Tensor x, TorchSharp.Modules.LayerNorm ln1, SelfAttention attention, TorchSharp.Modules.LayerNorm ln2, Mlp mlp, double eps) =>
        Tower(x, [new BlockParts(ln1, attention, ln2, mlp, eps)]);

    /// <summary>Blocks of one shape applied in turn as in <see cref="Block"/>, all in one native call (the same bits);
    /// null where any of them does not apply.</summary>
    public static Tensor? Tower(Tensor x, IReadOnlyList<BlockParts> blocks) => InputFits(x) ? Tower(x, blocks, Library.Kernels!) : null;

    /// <summary><see cref="Tower(Tensor, IReadOnlyList{BlockParts})"/> through the given kernels.</summary>
    internal static Tensor? Tower(Tensor x, IReadOnlyList<BlockParts> blocks, Kernels kernels)
    {
        if (!InputFits(x) || x.dim() != 3) return null;
        long tokens = x.size(1), width = x.size(2);
        // Row offsets are 32-bit in the kernel's tiles: a block's rows, widths and tokens stay far below.
        bool fits = width > 0 && tokens > 0 && width <= int.MaxValue / 16 && NativeBlock.Fit(blocks, width, evenHeadWidth: false, WeightFits, NormFits)
            && RowsFit(x.size(0) * tokens, width, blocks[0].Mlp.Fc.weight!.size(0));
        return fits ? NativeBlock.Run(x, blocks, kernels) : null;
    }

    /// <summary>x [..., K] · weightᵀ [N, K] + bias [N] through the kernels (each output element one sum in a fixed
    /// order, as in the blocks), then the blocks' exact GELU when <paramref name="gelu"/>; null where they do not apply
    /// (then the caller runs libtorch's operations). The float32 patch embedding runs through it, where libtorch's
    /// convolution took 1.0–1.75 times as long.</summary>
    public static Tensor? Linear(Tensor x, Tensor weight, Tensor? bias, PackedWeight cache, bool gelu = false) =>
        InputFits(x) ? Linear(x, weight, bias, cache, Library.Kernels!, gelu) : null;

    /// <summary><see cref="Linear(Tensor, Tensor, Tensor?, PackedWeight, bool)"/> through the given kernels.</summary>
    internal static Tensor? Linear(Tensor x, Tensor weight, Tensor? bias, PackedWeight cache, Kernels kernels, bool gelu = false)
    {
        if (!InputFits(x) || x.dim() < 1 || !LinearWeightFits(weight, bias)) return null;
        long k = TensorSizes.Last(x), n = weight.size(0);
        if (k != weight.size(1)) return null;
        var packed = cache.For(weight, bias, kernels);
        using var input = x.contiguous();
        long m = input.numel() / k;
        var output = torch.empty(TensorSizes.WithLast(x, n), ScalarType.Float32);
        if (m > 0)
            kernels.Linear((float*)TensorMemory.Address(input), m, (int)k, (float*)packed.Weight, (int)n, packed.Bias, gelu ? 1 : 0,
                (float*)TensorMemory.Address(output), torch.get_num_threads());
        GC.KeepAlive(packed);
        return output;
    }

    /// <summary>The tokens [B, 1 + g², W] a vision tower's blocks start from (class token, patches times the flattened
    /// filters [W, C·p·p], positional table [1 + g², W] added) in one call: the same bits as the patch embedding through
    /// <see cref="Linear(Tensor, Tensor, Tensor?, PackedWeight, bool)"/> followed by libtorch's concatenation and addition; null where the kernels do not apply.</summary>
    public static Tensor? Embed(Tensor pixels, int patch, Tensor filters, PackedWeight cache, Tensor classToken, Tensor positions) =>
        InputFits(pixels) && LinearWeightFits(filters, null) && Operand(classToken) && Operand(positions)
        && NativeEmbedding.Fit(pixels, patch, filters, classToken, positions)
            ? NativeEmbedding.Run(pixels, patch, filters, cache, classToken, positions, Library.Kernels!)
            : null;

    /// <summary>True when <see cref="Linear(Tensor, Tensor, Tensor?, PackedWeight, bool)"/> takes this weight [N, K] and bias (given float32 input of width K): the
    /// kernels are loaded and in use, and autograd records neither.</summary>
    public static bool LinearWeightFits(Tensor weight, Tensor? bias) =>
        !suspended && Available && weight.dim() == 2 && weight.size(1) > 0 && WeightFits(weight, bias, weight.size(0), weight.size(1));

    /// <summary>True when a block of this width and MLP width takes this many rows: any number for blocks of at most
    /// <see cref="SmallBlockBytes"/> of weights (its qkv, out, fc and proj matrices), else up to
    /// <see cref="MaxRows"/>.</summary>
    public static bool RowsFit(long rows, long width, long hidden) =>
        rows <= MaxRows || sizeof(float) * (4 * width * width + 2 * width * hidden) <= SmallBlockBytes;

    // An activation: float32 on the CPU, not recorded by autograd, with the kernels loaded (checked last: the first
    // float32 block loads them).
    private static bool InputFits(Tensor x) =>
        x.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU && !(torch.is_grad_enabled() && x.requires_grad) && !suspended && Available;

    // A linear layer's weight [rows, columns] and bias [rows] or none, contiguous, so that their first elements'
    // addresses describe them.
    private static bool WeightFits(Tensor weight, Tensor? bias, long rows, long columns) =>
        Operand(weight) && TensorSizes.Are(weight, rows, columns)
        && rows <= int.MaxValue && columns <= int.MaxValue && weight.is_contiguous() && VectorFits(bias, rows);

    private static bool NormFits(TorchSharp.Modules.LayerNorm norm, long width) => VectorFits(norm.weight, width) && VectorFits(norm.bias, width);

    private static bool VectorFits(Tensor? vector, long length) =>
        vector is null || (Operand(vector) && TensorSizes.Are(vector, length) && vector.is_contiguous());

    private static bool Operand(Tensor tensor) =>
        tensor.dtype == ScalarType.Float32 && tensor.device_type == DeviceType.CPU && !(torch.is_grad_enabled() && tensor.requires_grad);

    internal sealed class Kernels(IntPtr library) : KernelExports(library, "f32")
    {
        public readonly delegate* unmanaged<float*, long, int, float*, int, float*, int, float*, int, void> Linear =
            (delegate* unmanaged<float*, long, int, float*, int, float*, int, float*, int, void>)Export(library, "f32", "linear");
    }
}
