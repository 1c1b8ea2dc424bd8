using System.Diagnostics.Tracing;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Native;

/// <summary>Counts the runtime's FinalizeObject events (GC keyword, verbose) for TorchSharp's Scalar and Tensor.
/// A finalized Scalar or Tensor is one that nobody disposed and nothing kept reachable: exactly the kind of object a
/// collection on another thread can free while libtorch still reads it.</summary>
internal sealed class FinalizationCounter : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    // Static: OnEventSourceCreated runs inside the base constructor, before instance fields are assigned.
    private static readonly ulong ScalarType = (ulong)typeof(Scalar).TypeHandle.Value;
    private static readonly ulong[] TensorTypes = [(ulong)typeof(Tensor).TypeHandle.Value, (ulong)typeof(TorchSharp.Modules.Parameter).TypeHandle.Value];
    private static readonly ulong SentinelType = (ulong)typeof(Sentinel).TypeHandle.Value;

    private long scalars, tensors, sentinels;

    public long Scalars => Interlocked.Read(ref scalars);

    public long Tensors => Interlocked.Read(ref tensors);

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == RuntimeSource) EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName != "FinalizeObject" || e.Payload is null || e.Payload.Count == 0) return;
        ulong type = e.Payload[0] switch
        {
            ulong u => u,
            long l => (ulong)l,
            nint n => (ulong)n,
            nuint n => n,
            _ => 0,
        };
        if (type == ScalarType) Interlocked.Increment(ref scalars);
        else if (TensorTypes.Contains(type)) Interlocked.Increment(ref tensors);
        else if (type == SentinelType) Interlocked.Increment(ref sentinels);
    }

    /// <summary>Collects, runs every pending finalizer, and waits until this listener has received all their events:
    /// a sentinel is finalized last, and the finalizer thread's events arrive in order.</summary>
    public void Settle(TimeSpan timeout)
    {
        long before = Interlocked.Read(ref sentinels);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        DropSentinel();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var deadline = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref sentinels) == before)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the runtime's FinalizeObject event did not arrive within {timeout.TotalSeconds} s; this runtime may not report finalizations to EventListeners");
            Thread.Sleep(20);
        }
    }

    public void Reset()
    {
        Interlocked.Exchange(ref scalars, 0);
        Interlocked.Exchange(ref tensors, 0);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void DropSentinel() => _ = new Sentinel();

    private sealed class Sentinel
    {
        ~Sentinel() { }
    }
}
