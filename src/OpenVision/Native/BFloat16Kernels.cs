using OpenVision.Layers;

namespace OpenVision.Native;

/// <summary>Which kernel runs the linear layers of bfloat16 models: the AVX512-BF16 kernels shipped with the
/// package (<c>libopenvision_bf16.so</c>) where the CPU has those instructions, otherwise libtorch's.
/// <c>OPENVISION_BF16_KERNELS=0</c> keeps libtorch's.</summary>
public static class BFloat16Kernels
{
    /// <summary>"AVX512-BF16 kernels", or "libtorch (why)". Loads the kernels, and libtorch, on first use: read it after
    /// <see cref="OpenVisionRuntime.Configure"/>, which must run before libtorch loads.</summary>
    public static string Status => BFloat16Ops.Status;

    /// <summary>True when bfloat16 linear layers run through the shipped kernels.</summary>
    public static bool Available => BFloat16Ops.Available;
}
