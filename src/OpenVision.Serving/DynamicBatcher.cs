using System.Threading.Channels;

namespace OpenVision.Serving;

/// <summary>Runs items of concurrent requests through one model call: when the model is free, the items queued so far
/// form a batch of up to <see cref="OpenVisionEndpointOptions.MaxBatchSize"/> items, which waits at most
/// <see cref="OpenVisionEndpointOptions.BatchDelay"/> (none by default) for more. A request larger than that is split
/// into chunks of at most that many items, each its own call, so no call ever exceeds it. With batching off calls never
/// mix requests. Calls never overlap: one model run uses all cores by itself. Disposing stops it: work already queued
/// still runs (its requests are in flight), work whose request was abandoned is skipped, and new work is refused with
/// a 503. Because a chunk whose request was abandoned never starts, a request cut at shutdown costs at most the one
/// call already running.</summary>
internal sealed class DynamicBatcher<TItem> : IAsyncDisposable
{
    private sealed record Work(IReadOnlyList<TItem> Items, TaskCompletionSource<float[][]> Done, CancellationToken Abandoned);

    private readonly Func<IReadOnlyList<TItem>, float[][]> run;
    private readonly OpenVisionEndpointOptions options;
    private readonly Channel<Work> queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task loop;
    private long calls, items, dropped;

    public DynamicBatcher(Func<IReadOnlyList<TItem>, float[][]> run, OpenVisionEndpointOptions options)
    {
        this.run = run;
        this.options = options;
        loop = Task.Run(Loop);
    }

    /// <summary>Model calls made so far.</summary>
    public long Calls => Interlocked.Read(ref calls);

    /// <summary>Items embedded so far.</summary>
    public long Items => Interlocked.Read(ref items);

    /// <summary>Items skipped without a model call because their request had been abandoned before their turn.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Embeds <paramref name="batch"/> (one row per item, in order), sharing model calls with concurrent requests.</summary>
    public Task<float[][]> RunAsync(IReadOnlyList<TItem> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return Task.FromResult(Array.Empty<float[]>());
        int size = options.MaxBatchSize;
        if (batch.Count <= size) return Enqueue(batch, cancellationToken).WaitAsync(cancellationToken);
        // Chunks are queued together, in order, so they run back to back unless the request is abandoned (then the
        // ones not yet started are skipped); other requests' items may fill the last chunk's call.
        var chunks = new List<Task<float[][]>>();
        for (int start = 0; start < batch.Count; start += size)
            chunks.Add(Enqueue(new ListSlice(batch, start, Math.Min(size, batch.Count - start)), cancellationToken));
        return Join(chunks).WaitAsync(cancellationToken);
    }

    private Task<float[][]> Enqueue(IReadOnlyList<TItem> items, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<float[][]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!queue.Writer.TryWrite(new Work(items, done, cancellationToken)))
            throw new ApiError(503, "shutting_down", "the server is shutting down; retry against another instance or after it restarts");
        return done.Task;
    }

    private static async Task<float[][]> Join(List<Task<float[][]>> chunks)
    {
        var parts = await Task.WhenAll(chunks).ConfigureAwait(false);
        return parts.SelectMany(rows => rows).ToArray();
    }

    // A view of part of a request, so splitting copies no items.
    private sealed class ListSlice(IReadOnlyList<TItem> list, int start, int count) : IReadOnlyList<TItem>
    {
        public TItem this[int index] => (uint)index < (uint)count ? list[start + index] : throw new ArgumentOutOfRangeException(nameof(index));
        public int Count => count;
        public IEnumerator<TItem> GetEnumerator()
        {
            for (int i = 0; i < count; i++) yield return list[start + i];
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private async Task Loop()
    {
        var reader = queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var works = new List<Work>();
            if (!reader.TryRead(out var first)) continue;
            works.Add(first);
            int count = first.Items.Count;
            if (options.DynamicBatching)
            {
                // What is queued joins while it fits; with a delay the batch then waits that long for more.
                using var window = options.BatchDelay > TimeSpan.Zero ? new CancellationTokenSource(options.BatchDelay) : null;
                try
                {
                    while (count < options.MaxBatchSize)
                    {
                        if (reader.TryPeek(out var next))
                        {
                            if (count + next.Items.Count > options.MaxBatchSize || !reader.TryRead(out next)) break;
                            works.Add(next);
                            count += next.Items.Count;
                        }
                        else if (window is null) break;
                        else await reader.WaitToReadAsync(window.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) { }              // the window closed
            }
            Execute(works, count);
        }
    }

    private void Execute(List<Work> works, int count)
    {
        // A request that was abandoned (client gone, or its connection aborted at the end of a shutdown) costs no model time.
        var skipped = works.Where(w => w.Abandoned.IsCancellationRequested && w.Done.TrySetCanceled(w.Abandoned)).ToList();
        if (skipped.Count > 0)
        {
            works.RemoveAll(skipped.Contains);
            Interlocked.Add(ref dropped, skipped.Sum(w => w.Items.Count));
            if (works.Count == 0) return;
            count = works.Sum(w => w.Items.Count);
        }
        try
        {
            var rows = run(works.SelectMany(w => w.Items).ToList());
            Interlocked.Increment(ref calls);
            Interlocked.Add(ref items, count);
            int offset = 0;
            foreach (var work in works)
            {
                work.Done.TrySetResult(rows[offset..(offset + work.Items.Count)]);
                offset += work.Items.Count;
            }
        }
        catch (Exception) when (works.Count > 1)
        {
            // One bad item must not fail its neighbours: rerun each request alone so only the culprit gets the error.
            foreach (var work in works) Execute([work], work.Items.Count);
        }
        catch (Exception e)
        {
            works[0].Done.TrySetException(e);
        }
    }

    /// <summary>Refuses new work and waits until the queued work has run.</summary>
    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await loop.ConfigureAwait(false);
    }
}
