using System.Runtime.InteropServices;
using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>A kernel library that runs whole vision blocks (openvision_schedule.h's <c>run_tower</c>): its weight
/// packing, the scratch memory a block needs and the call that runs blocks in turn in one parallel region.</summary>
internal unsafe interface IBlockKernels : IWeightPacker
{
    long BlockScratch(long rows, int width, int hidden);

    void Tower(void* x, long batch, int tokens, NativeBlock.Layers* layers, int count, void* scratch, void* y, void* spare, int threads);
}

/// <summary>The modules of one pre-norm block, as a kernel library takes them.</summary>
internal readonly record struct BlockParts(TorchSharp.Modules.LayerNorm Ln1, SelfAttention Attention, TorchSharp.Modules.LayerNorm Ln2, Mlp Mlp, double Eps);

/// <summary>Runs pre-norm blocks with exact GELU and no mask through a kernel library (bfloat16 or float32), one block
/// or a whole stack in one call: packs their linear layers on first use (kept in the modules'
/// <see cref="PackedWeight"/>s) and makes the call. A stack in one call saves, per block, the managed trip, the output
/// and scratch allocations and a thread-team start and join, and lets a thread that finishes its rows early go on to
/// the next block (openvision_schedule.h); the bits are those of the blocks one at a time.</summary>
internal static unsafe class NativeBlock
{
    /// <summary>openvision_schedule.h's <c>struct block_layers</c> (pointers to the element type of the library).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Layers
    {
        public void* Ln1Gamma, Ln1Beta, Ln2Gamma, Ln2Beta;
        public void* Qkv, Out, Fc, Proj;
        public float* QkvBias, OutBias, FcBias, ProjBias;
        public int Width, Hidden, Heads;
        public float Eps, AttentionScale;
    }

    /// <summary>True when every block has exact GELU, the heads and MLP width of the first, heads that divide
    /// <paramref name="width"/> (into even head widths where <paramref name="evenHeadWidth"/>), and linear layers and
    /// layer norms of a block of that width that pass the library's own operand checks.</summary>
    public static bool Fit(IReadOnlyList<BlockParts> blocks, long width, bool evenHeadWidth,
        Func<Tensor, Tensor?, long, long, bool> weightFits, Func<TorchSharp.Modules.LayerNorm, long, bool> normFits)
    {
        if (blocks.Count == 0) return false;
        int heads = blocks[0].Attention.Heads;
        long hidden = blocks[0].Mlp.Fc.weight!.size(0);
        if (heads <= 0 || width % heads != 0 || (evenHeadWidth && width / heads % 2 != 0) || hidden > int.MaxValue / 4) return false;
        foreach (var (ln1, attention, ln2, mlp, _) in blocks)
        {
            bool fits = mlp.ExactGelu && attention.Heads == heads
                && weightFits(attention.InProjWeight, attention.InProjBias, 3 * width, width)
                && weightFits(attention.OutProj.weight!, attention.OutProj.bias, width, width)
                && weightFits(mlp.Fc.weight!, mlp.Fc.bias, hidden, width) && weightFits(mlp.Proj.weight!, mlp.Proj.bias, width, hidden)
                && normFits(ln1, width) && normFits(ln2, width);
            if (!fits) return false;
        }
        return true;
    }

    /// <summary>x [B, L, W] through the blocks in turn (checked by the caller with <see cref="Fit"/>): [B, L, W].</summary>
    public static Tensor Run(Tensor x, IReadOnlyList<BlockParts> blocks, IBlockKernels kernels)
    {
        long batch = x.size(0), tokens = x.size(1), width = x.size(2), hidden = blocks[0].Mlp.Fc.weight!.size(0);
        var packed = new Packed[4 * blocks.Count];
        var layers = new Layers[blocks.Count];
        for (int i = 0; i < blocks.Count; i++)
        {
            var (ln1, attention, ln2, mlp, eps) = blocks[i];
            var qkv = packed[4 * i] = attention.InProjPacked.For(attention.InProjWeight, attention.InProjBias, kernels);
            var output = packed[4 * i + 1] = attention.OutProjPacked.For(attention.OutProj.weight!, attention.OutProj.bias, kernels);
            var fc = packed[4 * i + 2] = mlp.FcPacked.For(mlp.Fc.weight!, mlp.Fc.bias, kernels);
            var proj = packed[4 * i + 3] = mlp.ProjPacked.For(mlp.Proj.weight!, mlp.Proj.bias, kernels);
            layers[i] = new Layers
            {
                Ln1Gamma = AddressOrNull(ln1.weight), Ln1Beta = AddressOrNull(ln1.bias),
                Ln2Gamma = AddressOrNull(ln2.weight), Ln2Beta = AddressOrNull(ln2.bias),
                Qkv = (void*)qkv.Weight, Out = (void*)output.Weight, Fc = (void*)fc.Weight, Proj = (void*)proj.Weight,
                QkvBias = qkv.Bias, OutBias = output.Bias, FcBias = fc.Bias, ProjBias = proj.Bias,
                Width = (int)width, Hidden = (int)hidden, Heads = attention.Heads,
                Eps = (float)eps, AttentionScale = (float)(1 / Math.Sqrt(width / attention.Heads)),
            };
        }
        using var input = x.contiguous();
        var y = torch.empty_like(input);
        long rows = batch * tokens;
        if (rows > 0)
        {
            using var scratch = torch.empty(kernels.BlockScratch(rows, (int)width, (int)hidden), x.dtype);
            using var spare = blocks.Count > 1 ? torch.empty_like(input) : null;
            fixed (Layers* first = layers)
                kernels.Tower((void*)TensorMemory.Address(input), batch, (int)tokens, first, layers.Length, (void*)TensorMemory.Address(scratch),
                    (void*)TensorMemory.Address(y), spare is null ? null : (void*)TensorMemory.Address(spare), torch.get_num_threads());
        }
        GC.KeepAlive(packed);
        return y;
    }

    private static void* AddressOrNull(Tensor? tensor) => tensor is null ? null : (void*)TensorMemory.Address(tensor);
}
