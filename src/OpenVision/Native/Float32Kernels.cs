using OpenVision.Configs;
using OpenVision.Layers;

namespace OpenVision.Native;

/// <summary>What runs the blocks of float32 vision towers at inference: the kernels shipped with the package, a whole
/// block per native call (<c>libopenvision_f32.so</c> where the CPU has AVX-512, <c>libopenvision_f32_avx2.so</c> where
/// it has AVX2 and FMA only), otherwise libtorch's operations. <c>OPENVISION_F32_KERNELS=0</c> keeps libtorch's;
/// <c>OPENVISION_F32_KERNELS=avx2</c> runs the AVX2 kernels on an AVX-512 CPU too.</summary>
public static class Float32Kernels
{
    /// <summary>"AVX-512 float32 kernels", "AVX2 float32 kernels", or "libtorch (why)". Loads the kernels, and libtorch, on first use: read it
    /// after <see cref="OpenVisionRuntime.Configure"/>, which must run before libtorch loads.</summary>
    public static string Status => Float32Ops.Status;

    /// <summary>True when float32 vision blocks run through the shipped kernels.</summary>
    public static bool Available => Float32Ops.Available;

    /// <summary>True when the kernels run the blocks of this vision tower at this batch size (larger towers' larger
    /// batches go through libtorch's cache-blocked operations, as fast there).</summary>
    public static bool RunsBlocks(VisionConfig vision, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(vision);
        return Available && Float32Ops.RowsFit((long)batchSize * vision.Tokens, vision.Width, vision.MlpWidth);
    }
}
