namespace OpenVision;

/// <summary>What <see cref="OpenVisionRuntime.Configure"/> may change in the process; both are on by default, and the
/// environment opt-outs (<c>OPENVISION_MKL_CPU_SHIM=0</c>, <c>OPENVISION_HEAP_TUNING=0</c>) apply in addition.</summary>
public sealed record OpenVisionRuntimeOptions
{
    /// <summary>Load the MKL vendor-check shim on AMD x86-64 Linux so libtorch's MKL takes its fast kernels.</summary>
    public bool MklCpuShim { get; init; } = true;

    /// <summary>Set glibc's allocator to keep freed memory for reuse instead of returning it to the kernel.</summary>
    public bool HeapTuning { get; init; } = true;
}
