using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>The linear layers, self-attention and layer norms of a bfloat16 model through <c>libopenvision_bf16.so</c>
/// (AVX512-BF16 dot products, float32 accumulation) where the CPU has those instructions, otherwise libtorch's
/// <c>linear</c> and <c>scaled_dot_product_attention</c>. Linear: the bias is added in float32 and the sum rounded once
/// to bfloat16. libtorch's oneDNN kernel repacks the weights on every call and reaches 70–80 % of the bfloat16 peak at
/// ViT shapes on AMD Zen 5; this one packs each weight once and reaches 85–95 %. Attention: libtorch's CPU
/// flash-attention arithmetic, read from the in_proj output and written with the heads merged (docs/bfloat16.md).</summary>
/// <remarks>Used for inference only: not when autograd records (grad mode on and a tensor requires grad). Each
/// layer's packed weight is made on its first bfloat16 call and kept (as much memory again as the bfloat16 weight);
/// it is remade when the weight tensor's storage or any of 64 sampled values changes (an in-place load_state_dict).
/// <c>OPENVISION_BF16_KERNELS=0</c> keeps libtorch's kernels.</remarks>
internal static unsafe class BFloat16Ops
{
    public const string ShimFileName = "libopenvision_bf16.so";

    private static readonly KernelLibrary<Kernels> Library =
        new(ShimFileName, "OPENVISION_BF16_KERNELS", handle => new Kernels(handle), kernels => kernels.Init(), "AVX512-BF16 kernels", "AVX512-BF16");

    /// <summary>"AVX512-BF16 kernels", or why libtorch's kernel runs.</summary>
    public static string Status => Library.Status;

    public static bool Available => Library.Kernels is not null;

    /// <summary>x [..., K] · weightᵀ [N, K] + bias [N], then exact (erf) GELU when <paramref name="gelu"/>, then
    /// + <paramref name="residual"/> [..., N] (the block's skip connection): through the kernels where they apply (all
    /// in float32 before the one rounding), otherwise libtorch (linear, gelu and add as separate operations).</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias, PackedWeight cache, Tensor? residual = null, bool gelu = false)
    {
        if (!Applies(x, weight, bias) || (residual is not null && !Fits(residual, x, weight.size(0))))
        {
            if (residual is null && !gelu) return nn.functional.linear(x, weight, bias);
            using var product = nn.functional.linear(x, weight, bias);
            if (residual is null) return nn.functional.gelu(product);
            if (!gelu) return residual.add(product, KeptScalars.One);
            using var activated = nn.functional.gelu(product);
            return residual.add(activated, KeptScalars.One);
        }
        var kernels = Library.Kernels!;
        return RunLinear(x, weight.size(1), weight.size(0), cache.For(weight, bias, kernels), residual, gelu);
    }

    // y [..., N] = x [..., K] through one packed weight (the operands checked by the caller).
    private static Tensor RunLinear(Tensor x, long k, long n, Packed packed, Tensor? residual, bool gelu)
    {
        using var input = x.contiguous();
        long m = input.numel() / k;
        var output = torch.empty(TensorSizes.WithLast(x, n), ScalarType.BFloat16);
        using var skip = residual?.contiguous();
        if (m > 0)
            Library.Kernels!.Linear((ushort*)TensorMemory.Address(input), m, (int)k, (ushort*)packed.Weight, (int)n, packed.Bias, gelu ? 1 : 0,
                skip is null ? null : (ushort*)TensorMemory.Address(skip), (ushort*)TensorMemory.Address(output), torch.get_num_threads());
        GC.KeepAlive(packed);
        return output;
    }

    /// <summary>x [..., K] · <paramref name="projection"/> [K, N] (a tower's output projection, stored as the matrix x
    /// multiplies) through the kernels where they apply (float32 sums, one rounding), otherwise libtorch's matmul. The
    /// projection is packed from its transpose once; libtorch's bfloat16 matmul took 68–83 µs for ViT-Ti's [1, 192] ·
    /// [192, 192], a tenth of a millisecond of a 5 ms batch-1 image (docs/speed.md).</summary>
    public static Tensor Project(Tensor x, Tensor projection, PackedWeight cache)
    {
        if (!InputFits(x) || x.dim() < 1 || projection.dim() != 2) return x.matmul(projection);
        long k = TensorSizes.Last(x), n = projection.size(1);
        if (!ProjectionFits(projection, k)) return x.matmul(projection);
        return RunLinear(x, k, n, cache.For(projection, null, Library.Kernels!.Transposed), null, gelu: false);
    }

    /// <summary>A vision tower's features [B, E] from its last block's tokens <paramref name="x"/> [B, L, W]: the mean of
    /// tokens 1 … L−1 (<paramref name="average"/>) or token 0, then <paramref name="norm"/>, then times
    /// <paramref name="projection"/> [W, E], in one call on the calling thread (each step in float32, rounded once, as
    /// libtorch's mean, layer norm and the kernels' product round); null where the kernels do not apply. libtorch's
    /// bfloat16 mean of ViT-Ti's tokens took 90–120 µs after the tower, a fiftieth of a batch-1 image (docs/speed.md).</summary>
    public static Tensor? Head(Tensor x, bool average, TorchSharp.Modules.LayerNorm norm, double eps, Tensor projection, PackedWeight cache)
    {
        if (!InputFits(x) || x.dim() != 3 || projection.dim() != 2) return null;
        long batch = x.size(0), tokens = x.size(1), width = x.size(2), n = projection.size(1);
        bool fits = tokens >= (average ? 2 : 1) && tokens <= int.MaxValue && width > 0 && width <= int.MaxValue / 4 && n > 0
            && NormFits(norm, width) && ProjectionFits(projection, width);
        if (!fits) return null;
        var kernels = Library.Kernels!;
        var packed = cache.For(projection, null, kernels.Transposed);
        using var input = x.contiguous();
        using var scratch = torch.empty(2 * batch * width, ScalarType.BFloat16);
        var output = torch.empty(batch, n, ScalarType.BFloat16);
        if (batch > 0)
            kernels.Head((ushort*)TensorMemory.Address(input), batch, (int)tokens, (int)width, average ? 1 : 0,
                norm.weight is null ? null : (ushort*)TensorMemory.Address(norm.weight), norm.bias is null ? null : (ushort*)TensorMemory.Address(norm.bias),
                (float)eps, (ushort*)packed.Weight, (int)n, (ushort*)TensorMemory.Address(scratch), (ushort*)TensorMemory.Address(output));
        GC.KeepAlive(packed);
        return output;
    }

    /// <summary>The tokens [B, 1 + g², W] a vision tower's blocks start from (class token, patches times the flattened
    /// filters [W, C·p·p], positional table [1 + g², W] added) in one call, each token summed in float32 and rounded
    /// once (the patch embedding and the table's addition round twice); null where the kernels do not apply.
    /// <paramref name="pixels"/> may be float32: each pixel is rounded to bfloat16 as the patches are cut out, as a cast
    /// rounds it, without the cast's pass and tensor.</summary>
    public static Tensor? Embed(Tensor pixels, int patch, Tensor filters, PackedWeight cache, Tensor classToken, Tensor positions) =>
        (InputFits(pixels) || (FloatInput(pixels) && Library.Kernels!.EmbedsFloatPixels)) && filters.dim() == 2
        && WeightFits(filters, null, filters.size(0), filters.size(1)) && Operand(classToken) && Operand(positions) && NativeEmbedding.Fit(pixels, patch, filters, classToken, positions)
            ? NativeEmbedding.Run(pixels, patch, filters, cache, classToken, positions, Library.Kernels!)
            : null;

    /// <summary>LayerNorm over the last dimension of <paramref name="x"/> with the module's weight and bias: through the
    /// kernels where they apply (float32 inside, one rounding), otherwise the module itself.</summary>
    public static Tensor LayerNorm(Tensor x, TorchSharp.Modules.LayerNorm norm, double eps)
    {
        var (gamma, beta) = (norm.weight, norm.bias);
        if (!InputFits(x) || x.dim() < 1) return norm.call(x);
        long width = TensorSizes.Last(x);
        if (width <= 0 || width > int.MaxValue || !NormFits(norm, width)) return norm.call(x);
        using var input = x.contiguous();
        var output = torch.empty_like(input);
        long rows = input.numel() / width;
        if (rows > 0)
            Library.Kernels!.LayerNorm((ushort*)TensorMemory.Address(input), rows, (int)width,
                gamma is null ? null : (ushort*)TensorMemory.Address(gamma), beta is null ? null : (ushort*)TensorMemory.Address(beta),
                (float)eps, (ushort*)TensorMemory.Address(output), torch.get_num_threads());
        return output;
    }

    /// <summary>Multi-head self-attention of <paramref name="qkv"/> [B, L, 3·D] (q, k, v of <paramref name="heads"/>
    /// heads side by side, nn.MultiheadAttention's in_proj output) without a mask, scaled by 1/√(D/heads): [B, L, D],
    /// heads merged in order; through the kernels where they apply, otherwise null (the caller runs libtorch's).</summary>
    public static Tensor? Attention(Tensor qkv, int heads)
    {
        if (!InputFits(qkv) || qkv.dim() != 3) return null;
        long batch = qkv.size(0), tokens = qkv.size(1), width = qkv.size(2) / 3, headWidth = width / heads;
        if (qkv.size(2) != 3 * width || width != headWidth * heads || headWidth % 2 != 0 || tokens == 0 || tokens > int.MaxValue / 4) return null;
        using var input = qkv.contiguous();
        var output = torch.empty([batch, tokens, width], ScalarType.BFloat16);
        if (batch > 0)
            Library.Kernels!.Attention((ushort*)TensorMemory.Address(input), batch, (int)tokens, heads, (int)headWidth,
                (float)(1 / Math.Sqrt(headWidth)), (ushort*)TensorMemory.Address(output), torch.get_num_threads());
        return output;
    }

    /// <summary>A whole pre-norm block with exact GELU and no mask, x1 = x + out(attention(qkv(LN1(x)))), then
    /// x1 + proj(GELU(fc(LN2(x1)))), as one native call and one parallel region: the arithmetic of
    /// <see cref="LayerNorm"/>, <see cref="Linear"/> and <see cref="Attention"/> one after another (bit for bit),
    /// without their managed calls, intermediate tensors and thread-team starts. Null where it does not apply (then the
    /// caller runs the operations).</summary>
    public static Tensor? Block(Tensor x, TorchSharp.Modules.LayerNorm ln1, SelfAttention attention, TorchSharp.Modules.LayerNorm ln2, Mlp mlp, double eps) =>
        Tower(x, [new BlockParts(ln1, attention, ln2, mlp, eps)]);

    /// <summary>Blocks of one shape applied in turn as in <see cref="Block"/>, all in one native call and one parallel
    /// region (the same bits); null where any of them does not apply.</summary>
    public static Tensor? Tower(Tensor x, IReadOnlyList<BlockParts> blocks)
    {
        if (!InputFits(x) || x.dim() != 3) return null;
        long tokens = x.size(1), width = x.size(2);
        // WeightFits demands even input widths (width for qkv, hidden for proj), as the kernels' k-pairs need.
        bool fits = width > 0 && tokens > 0 && tokens <= int.MaxValue / 4 && width <= int.MaxValue / 4
            && NativeBlock.Fit(blocks, width, evenHeadWidth: true, WeightFits, NormFits);
        return fits ? NativeBlock.Run(x, blocks, Library.Kernels!) : null;
    }

    // The applicability checks, one per kind of operand; each also refuses a tensor autograd records for.

    // An activation: bfloat16 on the CPU, with the kernels loaded (checked last: the first bfloat16 call loads them).
    private static bool InputFits(Tensor x) => Operand(x) && Available;

    // Float32 images on the CPU for a bfloat16 tower, autograd not recording, the kernels loaded.
    private static bool FloatInput(Tensor x) =>
        x.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU && !(torch.is_grad_enabled() && x.requires_grad) && Available;

    // A linear layer's weight [rows, columns] (columns even: the kernels take k in pairs) and bias [rows] or none,
    // contiguous, so that their first elements' addresses describe them.
    private static bool WeightFits(Tensor weight, Tensor? bias, long rows, long columns) =>
        Operand(weight) && TensorSizes.Are(weight, rows, columns) && columns % 2 == 0 && rows <= int.MaxValue && columns <= int.MaxValue
        && weight.is_contiguous() && VectorFits(bias, rows);

    // A tower's projection [K, N] for the kernels: K even (they take k in pairs; the packed form is of the transpose
    // [N, K]), contiguous.
    private static bool ProjectionFits(Tensor projection, long k) =>
        Operand(projection) && projection.dim() == 2 && TensorSizes.Are(projection, k, projection.size(1)) && k % 2 == 0
        && k <= int.MaxValue && projection.size(1) <= int.MaxValue && projection.is_contiguous();

    // A layer norm's γ and β, [width] each or none.
    private static bool NormFits(TorchSharp.Modules.LayerNorm norm, long width) => VectorFits(norm.weight, width) && VectorFits(norm.bias, width);

    // A bias, γ or β: [length], contiguous, or none.
    private static bool VectorFits(Tensor? vector, long length) => vector is null || (Operand(vector) && TensorSizes.Are(vector, length) && vector.is_contiguous());

    // A skip connection: a bfloat16 CPU operand with the sizes of x but the last, which is the layer's output width
    // (it may be strided: it is made contiguous).
    private static bool Fits(Tensor residual, Tensor x, long outputs) => Operand(residual) && TensorSizes.AreLike(residual, x, outputs);

    // Any bfloat16 CPU operand autograd does not record for.
    private static bool Operand(Tensor tensor) =>
        tensor.dtype == ScalarType.BFloat16 && tensor.device_type == DeviceType.CPU && !(torch.is_grad_enabled() && tensor.requires_grad);

    /// <summary>Runs <paramref name="rounds"/> rounds of the kernels' peak loop (16 independent vdpbf16ps chains) on
    /// the calling thread and returns the FLOPs done; 0 where the kernels are not available.</summary>
    public static long PeakLoop(long rounds) => Library.Kernels is { } kernels ? kernels.PeakLoop(rounds) : 0;

    private static bool Applies(Tensor x, Tensor weight, Tensor? bias) =>
        weight.dim() == 2 && InputFits(x) && x.dim() >= 1 && WeightFits(weight, bias, weight.size(0), TensorSizes.Last(x));

    internal sealed class Kernels(IntPtr library) : KernelExports(library, "bf16")
    {
        public readonly delegate* unmanaged<ushort*, long, int, ushort*, int, float*, int, ushort*, ushort*, int, void> Linear =
            (delegate* unmanaged<ushort*, long, int, ushort*, int, float*, int, ushort*, ushort*, int, void>)Export(library, "bf16", "linear");
        public readonly delegate* unmanaged<ushort*, long, int, ushort*, ushort*, float, ushort*, int, void> LayerNorm =
            (delegate* unmanaged<ushort*, long, int, ushort*, ushort*, float, ushort*, int, void>)Export(library, "bf16", "layer_norm");
        public readonly delegate* unmanaged<ushort*, long, int, int, int, float, ushort*, int, void> Attention =
            (delegate* unmanaged<ushort*, long, int, int, int, float, ushort*, int, void>)Export(library, "bf16", "attention");
        public readonly delegate* unmanaged<ushort*, long, int, int, int, ushort*, ushort*, float, ushort*, int, ushort*, ushort*, void> Head =
            (delegate* unmanaged<ushort*, long, int, int, int, ushort*, ushort*, float, ushort*, int, ushort*, ushort*, void>)Export(library, "bf16", "head");
        public readonly delegate* unmanaged<long, long> PeakLoop = (delegate* unmanaged<long, long>)Export(library, "bf16", "peak_loop");

        private IWeightPacker? transposed;

        /// <summary>Packs a [K, N] matrix as the weight [N, K] it is the transpose of: one instance, since a packed
        /// weight is made anew when another packer asks.</summary>
        public IWeightPacker Transposed => LazyInitializer.EnsureInitialized(ref transposed, () => new TransposedPacker(this));
    }
}
