using OpenVision.Native;

namespace OpenVision.Tests.Native;

/// <summary>A no-GC region is process-wide: these tests run alone, after the parallel ones, so other tests'
/// allocations cannot use up the budget.</summary>
[CollectionDefinition(nameof(CollectorPauseTests), DisableParallelization = true)]
public sealed class CollectorPauseCollection;

[Collection(nameof(CollectorPauseTests))]
public class CollectorPauseTests
{
    [Fact]
    public void NoCollectionHappensWhilePausedEvenWhenAnotherThreadAllocates()
    {
        using (var pause = CollectorPause.Begin())
        {
            Assert.True(pause.IsActive);
            int before = GC.CollectionCount(0);
            // Another thread allocating is what starts a collection in the middle of a native call.
            long allocated = 0;
            var worker = new Thread(() =>
            {
                for (int i = 0; i < 8_000; i++) allocated += new byte[16 * 1024].Length;   // 128 MiB: several gen-0 budgets
            });
            worker.Start();
            worker.Join();
            Assert.Equal(8_000L * 16 * 1024, allocated);
            Assert.Equal(before, GC.CollectionCount(0));
        }
        // After the pause the collector works again and a second pause can start.
        GC.Collect();
        using var again = CollectorPause.Begin();
        Assert.True(again.IsActive);
    }

    // Two steps that overlap (another thread's, or a nested one) share the region: the first to end must not end the
    // other's protection; the last one ends it.
    [Fact]
    public void OverlappingPausesShareTheRegionUntilTheLastEnds()
    {
        var first = CollectorPause.Begin();
        var second = CollectorPause.Begin();
        Assert.True(first.IsActive && second.IsActive);
        first.Dispose();
        Assert.Equal(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
        second.Dispose();
        Assert.NotEqual(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
    }

    // A region the runtime left (budget exceeded) is replaced by the next pause; the old region's pauses then end
    // without ending the new one.
    [Fact]
    public void APauseOfALapsedRegionDoesNotEndTheNextRegion()
    {
        var old = CollectorPause.Begin(budgetBytes: 1 << 20);
        var keep = new List<byte[]>();
        for (int i = 0; i < 64; i++) keep.Add(new byte[64 * 1024]);   // 4 MiB > 1 MiB: the runtime collects
        Assert.NotEqual(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
        using var fresh = CollectorPause.Begin();
        Assert.True(fresh.IsActive);
        old.Dispose();
        Assert.Equal(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
        Assert.Equal(64, keep.Count);
    }

    [Fact]
    public void APauseWhoseBudgetIsExceededEndsQuietly()
    {
        var pause = CollectorPause.Begin(budgetBytes: 1 << 20);
        Assert.True(pause.IsActive);
        var keep = new List<byte[]>();
        for (int i = 0; i < 64; i++) keep.Add(new byte[64 * 1024]);   // 4 MiB > 1 MiB: the runtime collects
        pause.Dispose();
        Assert.NotEqual(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);
        Assert.Equal(64, keep.Count);
    }
}
