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
/// off. Concurrent steps share one region, which ends with the last of them. Inference does not use it: a server never
/// stops serving, so a region shared by its requests would rarely end, and a request allocates too much to fit one. Inference instead never hands TorchSharp a temporary
/// Scalar (<see cref="KeptScalars"/>) and keeps every intermediate tensor in a dispose scope, which
/// <c>ScalarFinalizationTests</c> checks. Upstream fix in progress: dotnet/TorchSharp pull requests #1434 and #1496.</remarks>
public sealed class CollectorPause : IDisposable
{
    /// <summary>Managed bytes a paused step may allocate before the runtime collects anyway.</summary>
    public const long DefaultBudgetBytes = 192L << 20;

    private static readonly bool Disabled = Environment.GetEnvironmentVariable("OPENVISION_GC_PAUSE") == "0";
    private static readonly object Gate = new();

    // Pauses share one region: concurrent steps (two trainers, parallel tests) join the running one, and it ends when
    // the last of them does, so the first to finish cannot end the others' protection. A region the runtime left
    // (budget exceeded) is replaced by the next Begin; pauses of the old one then end without touching the new one.
    private static int generation, holders;
    private readonly int region;
    private bool active;

    private CollectorPause(int region, bool active) => (this.region, this.active) = (region, active);

    /// <summary>True while this pause holds (or shares) a no-GC region.</summary>
    public bool IsActive => active;

    /// <summary>Starts a no-GC region, or joins the one another pause started; inactive when pausing is disabled, the
    /// runtime refuses, or someone else's region is running. Dispose to leave it.</summary>
    /// <param name="budgetBytes">Managed allocation allowed before the runtime collects anyway (for a new region).</param>
    public static CollectorPause Begin(long budgetBytes = DefaultBudgetBytes)
    {
        if (Disabled) return new CollectorPause(0, false);
        lock (Gate)
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                if (holders == 0) return new CollectorPause(0, false);   // not a region of ours
                holders++;
                return new CollectorPause(generation, true);
            }
            try
            {
                if (!GC.TryStartNoGCRegion(budgetBytes)) return new CollectorPause(0, false);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
            {
                return new CollectorPause(0, false);
            }
            generation++;
            holders = 1;
            return new CollectorPause(generation, true);
        }
    }

    /// <summary>Leaves the region, ending it when this was the last pause in it; a region the runtime already left
    /// (budget exceeded) ends quietly.</summary>
    public void Dispose()
    {
        if (!active) return;
        active = false;
        lock (Gate)
        {
            if (region != generation || --holders > 0) return;
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
