using System.Threading.Channels;

namespace OpenVision.Serving;

/// <summary>Runs items of concurrent requests through one model call: when the model is free, the items queued so far
/// form a batch of up to <see cref="OpenVisionEndpointOptions.MaxBatchSize"/> items, which waits at most
/// <see cref="OpenVisionEndpointOptions.BatchDelay"/> (none by default) for more. With
/// batching off every request is one call. Calls never overlap: one model run uses all cores by itself. Disposing
/// stops it: work already queued still runs (its requests are in flight), work whose request was abandoned is
/// skipped, and new work is refused with a 503.</summary>
internal sealed class DynamicBatcher<TItem> : IAsyncDisposable
{
    private sealed record Work(IReadOnlyList<TItem> Items, TaskCompletionSource<float[][]> Done, CancellationToken Abandoned);

    private readonly Func<IReadOnlyList<TItem>, float[][]> run;
    private readonly OpenVisionEndpointOptions options;
    private readonly Channel<Work> queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task loop;
    private long calls, items;

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

    /// <summary>Embeds <paramref name="batch"/> (one row per item, in order), sharing model calls with concurrent requests.</summary>
    public Task<float[][]> RunAsync(IReadOnlyList<TItem> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return Task.FromResult(Array.Empty<float[]>());
        var done = new TaskCompletionSource<float[][]>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!queue.Writer.TryWrite(new Work(batch, done, cancellationToken)))
            throw new ApiError(503, "shutting_down", "the server is shutting down; retry against another instance or after it restarts");
        return done.Task.WaitAsync(cancellationToken);
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
        if (works.RemoveAll(w => w.Abandoned.IsCancellationRequested && w.Done.TrySetCanceled(w.Abandoned)) > 0)
        {
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
