using OpenVision.Native;

namespace OpenVision;

/// <summary>The process-wide settings OpenVision benefits from, applied only when the host application asks:
/// the MKL vendor-check shim (libtorch's MKL takes slow code paths on AMD processors without it) and glibc heap tuning
/// (freed tensor memory is kept for reuse instead of being unmapped and faulted in again). Nothing in the library
/// changes the process otherwise; see docs/runtime-tuning.md for the measured effect.</summary>
/// <remarks>Call <see cref="Configure"/> once at start-up, before the first tensor operation (before loading a model):
/// the MKL shim must be in the global symbol scope before MKL's first call. When libtorch is already loaded, Configure
/// leaves MKL alone and says so in <see cref="OpenVisionRuntimeReport.MklDispatch"/> ("too late: …"); heap tuning still
/// applies, to allocations made from then on. The first call decides; later calls return the same report.</remarks>
public static class OpenVisionRuntime
{
    private static readonly object Gate = new();
    private static OpenVisionRuntimeReport? report;

    /// <summary>The status of each setting before <see cref="Configure"/> has been called.</summary>
    public const string NotConfigured = "not configured (OpenVisionRuntime.Configure was not called)";

    /// <summary>The report of the first <see cref="Configure"/> call, or null when the host has not called it.</summary>
    public static OpenVisionRuntimeReport? Current
    {
        get { lock (Gate) return report; }
    }

    /// <summary>Applies the settings allowed by <paramref name="options"/> and the environment, once per process,
    /// and reports what was decided; thread-safe, and later calls return the first call's report unchanged.</summary>
    /// <param name="options">What may be changed; null allows both (subject to the environment opt-outs).</param>
    public static OpenVisionRuntimeReport Configure(OpenVisionRuntimeOptions? options = null)
    {
        options ??= new OpenVisionRuntimeOptions();
        lock (Gate)
        {
            if (report is not null) return report;
            bool torchLoaded = NativeLibraries.IsLoaded("libtorch_cpu") || NativeLibraries.IsLoaded("libLibTorchSharp");
            string mkl = !options.MklCpuShim ? "disabled by OpenVisionRuntimeOptions.MklCpuShim"
                : MklCpuDispatch.Apply(torchLoaded);
            string heap = options.HeapTuning ? HeapTuning.Apply() : "disabled by OpenVisionRuntimeOptions.HeapTuning";
            report = new OpenVisionRuntimeReport(mkl, heap, torchLoaded);
            return report;
        }
    }
}
