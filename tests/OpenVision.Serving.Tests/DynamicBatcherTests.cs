namespace OpenVision.Serving.Tests;

/// <summary>The batching policy itself, on a model stand-in that records each call's items and can be held.</summary>
public class DynamicBatcherTests
{
    private sealed class HeldModel
    {
        public readonly List<int[]> Calls = [];
        public readonly TaskCompletionSource FirstCallStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly ManualResetEventSlim Release = new(false);

        public float[][] Run(IReadOnlyList<int> items)
        {
            lock (Calls) Calls.Add([.. items]);
            FirstCallStarted.TrySetResult();
            Release.Wait(TimeSpan.FromMinutes(1));
            return items.Select(i => new[] { (float)i }).ToArray();
        }
    }

    // With no delay, what queued while the model ran is the next call: one call for the lone first request, one for
    // the five that arrived during it, none waiting for a window.
    [Fact]
    public async Task WithoutADelayTheItemsQueuedDuringACallFormTheNextCall()
    {
        var model = new HeldModel();
        await using var batcher = new DynamicBatcher<int>(model.Run, new OpenVisionEndpointOptions { BatchDelay = TimeSpan.Zero, MaxBatchSize = 32 });
        var first = batcher.RunAsync([0], CancellationToken.None);
        await model.FirstCallStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var rest = Enumerable.Range(1, 5).Select(i => batcher.RunAsync([i], CancellationToken.None)).ToList();
        model.Release.Set();
        var rows = await Task.WhenAll(rest.Prepend(first));
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], rows.Select(r => r.Single()[0]));
        Assert.Equal([[0], [1, 2, 3, 4, 5]], model.Calls);
    }

    // The largest call is respected: a request that would overflow it waits for the next call, whole.
    [Fact]
    public async Task ACallNeverExceedsTheLargestBatch()
    {
        var model = new HeldModel();
        await using var batcher = new DynamicBatcher<int>(model.Run, new OpenVisionEndpointOptions { BatchDelay = TimeSpan.Zero, MaxBatchSize = 4 });
        var first = batcher.RunAsync([0], CancellationToken.None);
        await model.FirstCallStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var rest = new[] { batcher.RunAsync([1, 2], CancellationToken.None), batcher.RunAsync([3, 4, 5], CancellationToken.None), batcher.RunAsync([6], CancellationToken.None) };
        model.Release.Set();
        await Task.WhenAll(rest.Prepend(first));
        Assert.Equal([[0], [1, 2], [3, 4, 5, 6]], model.Calls);
    }

    // A delay, when set, holds the first item back for company: nothing runs until the batch is full or the window ends.
    [Fact]
    public async Task ADelayHoldsTheFirstItemUntilTheBatchIsFull()
    {
        var model = new HeldModel();
        model.Release.Set();
        await using var batcher = new DynamicBatcher<int>(model.Run, new OpenVisionEndpointOptions { BatchDelay = TimeSpan.FromHours(1), MaxBatchSize = 3 });
        var first = batcher.RunAsync([0], CancellationToken.None);
        await Task.Delay(200);
        lock (model.Calls) Assert.Empty(model.Calls);
        await Task.WhenAll(first, batcher.RunAsync([1], CancellationToken.None), batcher.RunAsync([2], CancellationToken.None)).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal([[0, 1, 2]], model.Calls);
    }

    // --max-batch bounds every call, a single request's too: a larger one runs as chunks of that size, in order.
    [Fact]
    public async Task ARequestLargerThanTheLargestBatchIsSplitInOrder()
    {
        var model = new HeldModel();
        model.Release.Set();
        await using var batcher = new DynamicBatcher<int>(model.Run, new OpenVisionEndpointOptions { MaxBatchSize = 4 });
        var rows = await batcher.RunAsync(Enumerable.Range(0, 10).ToList(), CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), rows.Select(r => r[0]));
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]], model.Calls);
    }

    // Once a request is abandoned (its client left, or the shutdown timeout closed its connection) none of its chunks
    // that have not started runs: only the call already running finishes.
    [Fact]
    public async Task AnAbandonedRequestStartsNoFurtherChunk()
    {
        var model = new HeldModel();
        await using var batcher = new DynamicBatcher<int>(model.Run, new OpenVisionEndpointOptions { MaxBatchSize = 2, DynamicBatching = false });
        using var abandoned = new CancellationTokenSource();
        var request = batcher.RunAsync(Enumerable.Range(0, 10).ToList(), abandoned.Token);
        await model.FirstCallStarted.Task.WaitAsync(TimeSpan.FromMinutes(1));
        abandoned.Cancel();
        model.Release.Set();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await batcher.DisposeAsync();                              // waits for the queue: what is left is skipped, not run
        Assert.Equal([[0, 1]], model.Calls);
    }
}
