using System.Runtime;

namespace OpenVision.Native;

/// <summary>Holds the .NET garbage collector off while the calling thread runs a burst of tensor operations (one
/// training step), so that TorchSharp's temporary scalars cannot be freed while libtorch still reads them.</summary>
/// <remarks>TorchSharp 0.107 passes a number given to a tensor operator (<c>x + y</c> passes alpha = 1, <c>x * 0.5</c>,
/// and the same inside its AdamW) as a <c>Scalar</c> object that only its finalizer frees, and the object is unreachable
/// once its handle has been read. A collection started by another thread (the data loader's decode workers allocate
/// all the time) while such an operator runs in native code queues the scalar for finalization, and the finalizer thread
/// may free it before libtorch reads it: libtorch then fails with <c>Expected false to be true … toFloat</c>, or reads
/// a reused value. Two training runs on an overloaded machine stopped this way (steps 1,087 and 979). Inside a no-GC
/// region no collection happens, so no scalar of the step can be finalized early; the collector catches up when the
/// region ends, between steps, where nothing is in flight. If the step allocates more than the budget the runtime
/// collects anyway (the protection lapses for that step, nothing else changes). <c>OPENVISION_GC_PAUSE=0</c> turns it
/// off. Inference does not use it: a region is process-wide, so concurrent callers (server requests) would share one
/// and the first to finish would end everyone's protection. Inference instead never hands TorchSharp a temporary
/// Scalar (<see cref="KeptScalars"/>) and keeps every intermediate tensor in a dispose scope, which
/// <c>ScalarFinalizationTests</c> checks. Upstream fix in progress: dotnet/TorchSharp pull requests #1434 and #1496.</remarks>
public sealed class CollectorPause : IDisposable
{
    /// <summary>Managed bytes a paused step may allocate before the runtime collects anyway.</summary>
    public const long DefaultBudgetBytes = 192L << 20;

    private static readonly bool Disabled = Environment.GetEnvironmentVariable("OPENVISION_GC_PAUSE") == "0";
    private static readonly object Gate = new();
    private bool active;

    private CollectorPause(bool active) => this.active = active;

    /// <summary>True while this pause holds a no-GC region.</summary>
    public bool IsActive => active;

    /// <summary>Starts a no-GC region unless one is already running (another thread's pause) or pausing is disabled;
    /// dispose to end it.</summary>
    /// <param name="budgetBytes">Managed allocation allowed before the runtime collects anyway.</param>
    public static CollectorPause Begin(long budgetBytes = DefaultBudgetBytes)
    {
        if (Disabled) return new CollectorPause(false);
        lock (Gate)
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return new CollectorPause(false);
            try
            {
                return new CollectorPause(GC.TryStartNoGCRegion(budgetBytes));
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
            {
                return new CollectorPause(false);
            }
        }
    }

    /// <summary>Ends the region; a region the runtime already left (budget exceeded) ends quietly.</summary>
    public void Dispose()
    {
        if (!active) return;
        active = false;
        lock (Gate)
        {
            if (GCSettings.LatencyMode != GCLatencyMode.NoGCRegion) return;
            try
            {
                GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // The runtime collected during the region (budget exceeded or induced): nothing to undo.
            }
        }
    }
}
