namespace OpenVision.Lab.Benchmarks;

/// <summary>What the benchmark runs on: CPU model, cores, clock and an estimate of peak FLOP/s.</summary>
/// <param name="CpuModel">/proc/cpuinfo "model name".</param>
/// <param name="Cores">Logical processors available to the process.</param>
/// <param name="MegaHertz">Reported clock.</param>
/// <param name="Float32FlopsPerCycle">Per core: 64 with AVX-512 (two 16-wide FMA units; 32 on AMD Zen 4, which runs
/// 512-bit instructions on 256-bit units), 32 with AVX2+FMA, else 8 (<see cref="Float32FlopsPerCycleOf"/>).</param>
/// <param name="HasAvx512Bf16">Whether the CPU has AVX-512 BF16 dot products (bf16 peak is about twice fp32).</param>
public sealed record MachineInfo(string CpuModel, int Cores, double MegaHertz, int Float32FlopsPerCycle, bool HasAvx512Bf16)
{
    /// <summary>Estimated fp32 peak in GFLOP/s: cores × clock × FLOPs per cycle.</summary>
    public double PeakFloat32Gflops => Cores * MegaHertz / 1000 * Float32FlopsPerCycle;

    /// <summary>Reads the current machine (Linux; elsewhere fields are "unknown"/0).</summary>
    public static MachineInfo Current()
    {
        string model = "unknown", flags = "", vendor = "";
        int family = 0;
        double mhz = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                string value = line.Contains(':') ? line[(line.IndexOf(':') + 1)..].Trim() : "";
                if (line.StartsWith("model name", StringComparison.Ordinal) && model == "unknown") model = value;
                else if (line.StartsWith("cpu MHz", StringComparison.Ordinal) && mhz == 0) double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out mhz);
                else if (line.StartsWith("flags", StringComparison.Ordinal) && flags.Length == 0) flags = " " + value + " ";
                else if (line.StartsWith("vendor_id", StringComparison.Ordinal) && vendor.Length == 0) vendor = value;
                else if (line.StartsWith("cpu family", StringComparison.Ordinal) && family == 0) int.TryParse(value, out family);
            }
        }
        catch (IOException) { }
        return new MachineInfo(model, Environment.ProcessorCount, mhz, Float32FlopsPerCycleOf(vendor, family, flags), flags.Contains(" avx512_bf16 "));
    }

    /// <summary>fp32 FLOPs per cycle and core from /proc/cpuinfo's vendor_id, cpu family and flags: two FMA units of
    /// the widest vector. AMD's family 25 (Zen 3 and Zen 4) executes AVX-512 on 256-bit units, so it counts as AVX2
    /// (family 26, Zen 5 server parts, has full 512-bit units).</summary>
    public static int Float32FlopsPerCycleOf(string vendor, int family, string flags)
    {
        bool Has(string flag) => $" {flags} ".Contains($" {flag} ", StringComparison.Ordinal);
        bool halfWidthAvx512 = vendor == "AuthenticAMD" && family == 25;
        return Has("avx512f") && !halfWidthAvx512 ? 64 : Has("avx2") && Has("fma") ? 32 : 8;
    }
}
