using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace OpenVision.Native;

/// <summary>Runs a loop on libtorch's own OpenMP threads (<c>libopenvision_pool.so</c>) where they can be reached, on
/// .NET's thread pool elsewhere.</summary>
/// <remarks>Work done between model calls, such as decoding the next batch, would otherwise compete for the cores with
/// libtorch's worker threads, which spin for milliseconds after each parallel region before they sleep (libgomp's
/// default: 300,000 pause loops, 5.7 ms on a Zen 5 core): on 2 cores the decoder's second thread then gets half a core
/// for that long. On libtorch's threads the spinning worker takes the work instead. Off with
/// <c>OPENVISION_TORCH_THREAD_TEAM=0</c>; unavailable where the shim or libtorch's OpenMP runtime is missing.</remarks>
internal static unsafe class TorchThreadTeam
{
    public const string ShimFileName = "libopenvision_pool.so";
    private static readonly Lazy<(Pool? Pool, string Status)> Loaded = new(Load);

    /// <summary>Whether <see cref="For"/> runs on libtorch's threads.</summary>
    public static bool Available => Loaded.Value.Pool is not null;

    /// <summary>Where <see cref="For"/> runs, for reports: libtorch's threads, or .NET's and why.</summary>
    public static string Status => Loaded.Value.Status;

    /// <summary>Calls <paramref name="body"/> for 0 ≤ i &lt; <paramref name="count"/>, each index once in no fixed order,
    /// on libtorch's threads (the caller among them) where the team is available, otherwise on one .NET worker per
    /// core; returns when all calls have, then rethrows the first exception. True when it ran on libtorch's threads.</summary>
    public static bool For(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var pool = Loaded.Value.Pool;
        if (count <= 0) return pool is not null;
        var loop = new Loop(count, body);
        if (pool is null)
            Parallel.For(0, Math.Min(count, Environment.ProcessorCount), _ => loop.Run());
        else
        {
            var handle = GCHandle.Alloc(loop);
            try
            {
                pool.Run(&Work, GCHandle.ToIntPtr(handle));
            }
            finally
            {
                handle.Free();
            }
        }
        loop.Failure?.Throw();
        return pool is not null;
    }

    // Each thread of the team takes indices until none are left. No exception may leave: it would cross libgomp.
    [UnmanagedCallersOnly]
    private static void Work(IntPtr state)
    {
        try
        {
            var loop = (Loop)GCHandle.FromIntPtr(state).Target!;
            loop.Run();
        }
        catch (Exception)
        {
            // Loop.Run catches per index; nothing else can throw short of a broken handle, which For owns.
        }
    }

    private sealed class Loop(int count, Action<int> body)
    {
        private int next = -1;
        private ExceptionDispatchInfo? failure;

        public ExceptionDispatchInfo? Failure => failure;

        public void Run()
        {
            for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null); }
            }
        }
    }

    private static (Pool?, string) Load() => TryLoadShim("OPENVISION_TORCH_THREAD_TEAM", out var handle) is { } whyNot
        ? (null, $".NET thread pool ({whyNot})")
        : (new Pool(handle), "libtorch's OpenMP threads");

    /// <summary>Loads <see cref="ShimFileName"/> and binds it to the loaded libtorch's OpenMP runtime (loading libtorch
    /// first): null when ready, otherwise why not (<paramref name="optOutVariable"/> set to 0, platform, not built, no
    /// OpenMP runtime). Shared with <see cref="CallerThreads"/>, which has its own opt-out.</summary>
    internal static string? TryLoadShim(string optOutVariable, out IntPtr handle)
    {
        if (NativeLibraries.TryLoadShipped(ShimFileName, optOutVariable, out handle) is { } whyNot) return whyNot;
        using (torch.empty(1)) { } // libtorch must be loaded: the shim binds to its OpenMP runtime
        var init = (delegate* unmanaged<int>)NativeLibrary.GetExport(handle, "ov_pool_init");
        return init() == 1 ? null : "libtorch's OpenMP runtime was not found";
    }

    private sealed class Pool(IntPtr library)
    {
        public readonly delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, void> Run =
            (delegate* unmanaged<delegate* unmanaged<IntPtr, void>, IntPtr, void>)NativeLibrary.GetExport(library, "ov_pool_run");
    }
}
