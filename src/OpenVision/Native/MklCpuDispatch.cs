using System.Runtime.InteropServices;

namespace OpenVision.Native;

/// <summary>Lets libtorch's MKL use its fast kernels on AMD processors by loading a one-function shim
/// (<c>mkl_serv_intel_cpu_true</c> returning 1) into the global symbol scope before the first MKL call; applied by
/// <see cref="OpenVisionRuntime.Configure"/> only.</summary>
/// <remarks>MKL chooses the instruction set from CPUID after its vendor test, so the shim only removes the vendor
/// test. Set <c>OPENVISION_MKL_CPU_SHIM=0</c> to keep MKL's default dispatch. Parity tests run with the shim active.</remarks>
public static class MklCpuDispatch
{
    /// <summary>The shim's file name, next to the application's assemblies.</summary>
    public const string ShimFileName = "libopenvision_mkl_cpu.so";

    private const int RtldNow = 2, RtldGlobal = 0x100;

    /// <summary>What was decided, for reports: "enabled", why not, or "not configured" before
    /// <see cref="OpenVisionRuntime.Configure"/>.</summary>
    public static string Status => OpenVisionRuntime.Current?.MklDispatch ?? OpenVisionRuntime.NotConfigured;

    /// <summary>True when the shim is loaded.</summary>
    public static bool Enabled => Status == "enabled";

    // Called once, under OpenVisionRuntime's lock.
    internal static string Apply(bool torchAlreadyLoaded)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return "not applicable (Linux x86-64 only)";
        if (Environment.GetEnvironmentVariable("OPENVISION_MKL_CPU_SHIM") == "0") return "disabled by OPENVISION_MKL_CPU_SHIM=0";
        string vendor = CpuVendor();
        if (vendor != "AuthenticAMD") return $"not needed (CPU vendor {vendor})";
        string? path = NativeLibraries.FindShipped(ShimFileName);
        if (path == null) return $"unavailable ({ShimFileName} not found: built where no C compiler existed)";
        // MKL may already have taken its vendor decision; loading the shim now would make the report unreliable.
        if (torchAlreadyLoaded) return "too late: libtorch was loaded before OpenVisionRuntime.Configure (call it before the first tensor operation)";
        IntPtr handle = dlopen(path, RtldNow | RtldGlobal);
        return handle != IntPtr.Zero ? "enabled" : $"failed to load {path}";
    }

    private static string CpuVendor()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("vendor_id", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return "unknown";
    }

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr dlopen(string path, int flags);
}
