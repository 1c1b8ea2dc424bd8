using OpenVision.Native;

namespace OpenVision.Tests.Models;

public class MklCpuDispatchTests
{
    // On an AMD x86-64 Linux machine whose build had a C compiler (CI and dev machines here), the shim must be
    // active, so every parity test in this assembly runs through MKL's fast kernels.
    [Fact]
    public void ShimIsActiveWhereItApplies()
    {
        bool amd = File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("vendor_id") && l.Contains("AuthenticAMD"));
        bool built = File.Exists(Path.Combine(AppContext.BaseDirectory, "libopenvision_mkl_cpu.so"));
        if (amd && built && Environment.GetEnvironmentVariable("OPENVISION_MKL_CPU_SHIM") != "0")
            Assert.Equal("enabled", MklCpuDispatch.Status);
        else
            Assert.NotEqual("enabled", MklCpuDispatch.Status);
    }
}
