using System.Runtime.InteropServices;

namespace OpenVision.Native;

/// <summary>The calling thread's OpenMP thread count (libtorch's and MKL's parallel regions started from that thread
/// follow it) and its CPU time, through <c>libopenvision_pool.so</c>; used by
/// <see cref="Models.ContentionAwareThreads"/>. Off with <c>OPENVISION_ADAPTIVE_THREADS=0</c>; unavailable where the
/// shim or libtorch's OpenMP runtime is missing.</summary>
internal static unsafe class CallerThreads
{
    public const string OptOutVariable = "OPENVISION_ADAPTIVE_THREADS";
    private static readonly Lazy<(Functions? Functions, string Status)> Loaded = new(Load);

    /// <summary>Whether the thread count and CPU time can be read and set.</summary>
    public static bool Available => Loaded.Value.Functions is not null;

    /// <summary>Why not, when <see cref="Available"/> is false; "available" otherwise.</summary>
    public static string Status => Loaded.Value.Status;

    /// <summary>Threads the calling thread's next parallel region gets.</summary>
    public static int MaxThreads => Required.MaxThreads();

    /// <summary>Sets the calling thread's thread count; other threads keep theirs.</summary>
    public static void SetThreads(int count) => Required.SetThreads(count);

    /// <summary>CPU seconds the calling thread has used (negative if the clock cannot be read).</summary>
    public static double CpuSeconds() => Required.CpuSeconds();

    private static Functions Required => Loaded.Value.Functions ?? throw new InvalidOperationException($"caller thread control is unavailable: {Status}");

    private static (Functions?, string) Load()
    {
        if (TorchThreadTeam.TryLoadShim(OptOutVariable, out var handle) is { } whyNot) return (null, whyNot);
        var functions = new Functions(handle);
        return functions.CpuSeconds() < 0 ? (null, "the thread CPU clock cannot be read") : (functions, "available");
    }

    private sealed class Functions(IntPtr library)
    {
        public readonly delegate* unmanaged<int> MaxThreads = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "ov_pool_max_threads");
        public readonly delegate* unmanaged<int, void> SetThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(library, "ov_pool_set_threads");
        public readonly delegate* unmanaged<double> CpuSeconds = (delegate* unmanaged<double>)NativeLibrary.GetExport(library, "ov_pool_thread_cpu_seconds");
    }
}
