using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>The process's peak working set over a chosen stretch of time. On Linux the kernel's high-water mark
/// (VmHWM) can be reset by writing 5 to <c>/proc/self/clear_refs</c>; freed heap is first returned to the kernel
/// (<c>malloc_trim</c>), because <see cref="OpenVision.Native.HeapTuning"/> keeps the heap at its peak and the
/// previous run's memory would otherwise count as this one's. Elsewhere the peak is the whole process's.</summary>
public static class ProcessMemory
{
    /// <summary>Frees what can be freed and starts a new peak; false where only the process-lifetime peak is available.</summary>
    public static bool ResetPeak()
    {
        if (!OperatingSystem.IsLinux()) return false;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        try { malloc_trim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Peak resident set size in bytes since the last successful <see cref="ResetPeak"/> (or process start).</summary>
    public static long PeakBytes() => ReadStatus("VmHWM:") ?? Process.GetCurrentProcess().PeakWorkingSet64;

    /// <summary>Resident set size in bytes now.</summary>
    public static long CurrentBytes() => ReadStatus("VmRSS:") ?? Process.GetCurrentProcess().WorkingSet64;

    private static long? ReadStatus(string key)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or FormatException) { }
        return null;
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
