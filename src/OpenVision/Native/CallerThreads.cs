using System.Runtime.InteropServices;

namespace OpenVision.Native;

/// <summary>The calling thread's thread counts (OpenMP's, which libtorch's parallel regions follow, and MKL's own) and
/// its CPU time, through <c>libopenvision_pool.so</c>; used by
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

    /// <summary>Threads MKL's next parallel region started from the calling thread gets (its own setting where libtorch
    /// gave the thread one, otherwise the OpenMP count); -1 where libtorch has no MKL.</summary>
    public static int MklMaxThreads => Required.MklMaxThreads();

    /// <summary>Limits the calling thread's parallel regions, libtorch's and MKL's, to <paramref name="count"/> threads
    /// until the returned value is disposed, which restores both settings exactly; other threads keep theirs.</summary>
    /// <remarks>Setting OpenMP's count alone is not enough: once <c>torch.set_num_threads</c> has been called anywhere
    /// in the process, libtorch gives every thread it meets afterwards an MKL count of its own, and a batch part on such
    /// a thread would run its matrix products on all cores, with other roundings where MKL splits a sum between them.</remarks>
    public static Limit LimitTo(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var functions = Required;
        var limit = new Limit(functions.MaxThreads(), functions.SetMklThreads(count));
        functions.SetThreads(count);
        return limit;
    }

    /// <summary>The settings <see cref="LimitTo"/> replaced; disposing puts them back.</summary>
    public readonly struct Limit(int openMp, int mkl) : IDisposable
    {
        public void Dispose()
        {
            if (mkl >= 0) Required.SetMklThreads(mkl);
            Required.SetThreads(openMp);
        }
    }

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
        public readonly delegate* unmanaged<int> MklMaxThreads = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "ov_pool_mkl_max_threads");
        public readonly delegate* unmanaged<int, int> SetMklThreads = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "ov_pool_set_mkl_threads");
        public readonly delegate* unmanaged<double> CpuSeconds = (delegate* unmanaged<double>)NativeLibrary.GetExport(library, "ov_pool_thread_cpu_seconds");
    }
}
