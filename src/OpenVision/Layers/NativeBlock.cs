using System.Runtime.InteropServices;
using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Layers;

/// <summary>A kernel library that runs a whole vision block in one call (openvision_schedule.h's <c>run_block</c>): its
/// weight packing, the scratch memory a block needs and the block call.</summary>
internal unsafe interface IBlockKernels : IWeightPacker
{
    long BlockScratch(long rows, int width, int hidden);

    void Block(void* x, long batch, int tokens, NativeBlock.Layers* layers, void* scratch, void* y, int threads);
}

/// <summary>Runs a pre-norm block with exact GELU and no mask through a kernel library (bfloat16 or float32): packs its
/// four linear layers on first use (kept in the modules' <see cref="PackedWeight"/>s) and makes the one call. The
/// callers check that the block and input fit their kernels.</summary>
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

    /// <summary>True when the block's four linear layers and two layer norms have the shapes of a block of width
    /// <paramref name="width"/> and pass the library's own operand checks.</summary>
    public static bool LayersFit(TorchSharp.Modules.LayerNorm ln1, SelfAttention attention, TorchSharp.Modules.LayerNorm ln2, Mlp mlp, long width,
        Func<Tensor, Tensor?, long, long, bool> weightFits, Func<TorchSharp.Modules.LayerNorm, long, bool> normFits)
    {
        long hidden = mlp.Fc.weight!.size(0);
        return hidden <= int.MaxValue / 4
            && weightFits(attention.InProjWeight, attention.InProjBias, 3 * width, width)
            && weightFits(attention.OutProj.weight!, attention.OutProj.bias, width, width)
            && weightFits(mlp.Fc.weight!, mlp.Fc.bias, hidden, width) && weightFits(mlp.Proj.weight!, mlp.Proj.bias, width, hidden)
            && normFits(ln1, width) && normFits(ln2, width);
    }

    public static Tensor Run(Tensor x, TorchSharp.Modules.LayerNorm ln1, SelfAttention attention, TorchSharp.Modules.LayerNorm ln2, Mlp mlp,
        double eps, IBlockKernels kernels)
    {
        long batch = x.size(0), tokens = x.size(1), width = x.size(2), hidden = mlp.Fc.weight!.size(0);
        int heads = attention.Heads;
        var qkv = attention.InProjPacked.For(attention.InProjWeight, attention.InProjBias, kernels);
        var output = attention.OutProjPacked.For(attention.OutProj.weight!, attention.OutProj.bias, kernels);
        var fc = mlp.FcPacked.For(mlp.Fc.weight!, mlp.Fc.bias, kernels);
        var proj = mlp.ProjPacked.For(mlp.Proj.weight!, mlp.Proj.bias, kernels);
        using var input = x.contiguous();
        var y = torch.empty_like(input);
        long rows = batch * tokens;
        if (rows > 0)
        {
            using var scratch = torch.empty(kernels.BlockScratch(rows, (int)width, (int)hidden), x.dtype);
            var layers = new Layers
            {
                Ln1Gamma = AddressOrNull(ln1.weight), Ln1Beta = AddressOrNull(ln1.bias),
                Ln2Gamma = AddressOrNull(ln2.weight), Ln2Beta = AddressOrNull(ln2.bias),
                Qkv = (void*)qkv.Weight, Out = (void*)output.Weight, Fc = (void*)fc.Weight, Proj = (void*)proj.Weight,
                QkvBias = qkv.Bias, OutBias = output.Bias, FcBias = fc.Bias, ProjBias = proj.Bias,
                Width = (int)width, Hidden = (int)hidden, Heads = heads,
                Eps = (float)eps, AttentionScale = (float)(1 / Math.Sqrt(width / heads)),
            };
            kernels.Block((void*)TensorMemory.Address(input), batch, (int)tokens, &layers, (void*)TensorMemory.Address(scratch),
                (void*)TensorMemory.Address(y), torch.get_num_threads());
        }
        GC.KeepAlive(qkv);
        GC.KeepAlive(output);
        GC.KeepAlive(fc);
        GC.KeepAlive(proj);
        return y;
    }

    private static void* AddressOrNull(Tensor? tensor) => tensor is null ? null : (void*)TensorMemory.Address(tensor);
}
