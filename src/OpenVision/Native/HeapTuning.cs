using System.Runtime.InteropServices;

namespace OpenVision.Native;

/// <summary>Keeps glibc's allocator from returning tensor memory to the kernel after every operation; applied by
/// <see cref="OpenVisionRuntime.Configure"/> only.</summary>
/// <remarks>libtorch's CPU allocator is plain <c>posix_memalign</c>/<c>free</c>. glibc serves blocks above its mmap
/// threshold (at most 32 MiB) with a fresh <c>mmap</c> and unmaps them on free, so every large activation, gradient or
/// logits tensor is page-faulted in anew: a Fashion-MNIST training run spent 37 % of its CPU time in the kernel
/// (138 M minor faults in 7 min). Disabling mmap for the heap and raising the trim threshold makes freed blocks reusable,
/// as a caching allocator would: encode_image on Tiny/16-224 went from 46/57/67 to 57/70/68 images/s at batch 1/8/32.
/// The price is that the process keeps its peak heap instead of shrinking. Glibc-only; skipped when the user set any
/// <c>MALLOC_*</c> tuning variable or <c>OPENVISION_HEAP_TUNING=0</c>.</remarks>
public static class HeapTuning
{
    private const int MTrimThreshold = -1, MTopPad = -2, MMmapMax = -4;

    /// <summary>What was decided, for reports: "enabled", why not, or "not configured" before
    /// <see cref="OpenVisionRuntime.Configure"/>.</summary>
    public static string Status => OpenVisionRuntime.Current?.HeapTuning ?? OpenVisionRuntime.NotConfigured;

    // Called once, under OpenVisionRuntime's lock.
    internal static string Apply()
    {
        if (!OperatingSystem.IsLinux()) return "not applicable (Linux only)";
        if (Environment.GetEnvironmentVariable("OPENVISION_HEAP_TUNING") == "0") return "disabled by OPENVISION_HEAP_TUNING=0";
        foreach (var name in new[] { "MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_" })
            if (Environment.GetEnvironmentVariable(name) is not null) return $"left to the environment ({name} is set)";
        try
        {
            bool ok = mallopt(MMmapMax, 0) == 1;
            ok &= mallopt(MTrimThreshold, int.MaxValue) == 1;
            ok &= mallopt(MTopPad, 64 << 20) == 1;
            return ok ? "enabled" : "partly applied (mallopt refused a setting)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "not applicable (no glibc mallopt)";
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
