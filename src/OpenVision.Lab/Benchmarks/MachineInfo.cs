namespace OpenVision.Lab.Benchmarks;

/// <summary>What the benchmark runs on: CPU model, cores, clock and an estimate of peak FLOP/s.</summary>
/// <param name="CpuModel">/proc/cpuinfo "model name".</param>
/// <param name="Cores">Logical processors available to the process.</param>
/// <param name="MegaHertz">Reported clock.</param>
/// <param name="Float32FlopsPerCycle">Per core: 64 with AVX-512 (two 16-wide FMA units), 32 with AVX2+FMA, else 8.</param>
/// <param name="HasAvx512Bf16">Whether the CPU has AVX-512 BF16 dot products (bf16 peak is about twice fp32).</param>
public sealed record MachineInfo(string CpuModel, int Cores, double MegaHertz, int Float32FlopsPerCycle, bool HasAvx512Bf16)
{
    /// <summary>Estimated fp32 peak in GFLOP/s: cores × clock × FLOPs per cycle.</summary>
    public double PeakFloat32Gflops => Cores * MegaHertz / 1000 * Float32FlopsPerCycle;

    /// <summary>Reads the current machine (Linux; elsewhere fields are "unknown"/0).</summary>
    public static MachineInfo Current()
    {
        string model = "unknown", flags = "";
        double mhz = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                string value = line.Contains(':') ? line[(line.IndexOf(':') + 1)..].Trim() : "";
                if (line.StartsWith("model name", StringComparison.Ordinal) && model == "unknown") model = value;
                else if (line.StartsWith("cpu MHz", StringComparison.Ordinal) && mhz == 0) double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out mhz);
                else if (line.StartsWith("flags", StringComparison.Ordinal) && flags.Length == 0) flags = " " + value + " ";
            }
        }
        catch (IOException) { }
        int perCycle = flags.Contains(" avx512f ") ? 64 : flags.Contains(" avx2 ") && flags.Contains(" fma ") ? 32 : 8;
        return new MachineInfo(model, Environment.ProcessorCount, mhz, perCycle, flags.Contains(" avx512_bf16 "));
    }
}
