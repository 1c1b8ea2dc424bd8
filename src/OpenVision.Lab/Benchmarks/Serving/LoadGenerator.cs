using System.Diagnostics;
using OpenVision.Serving;

namespace OpenVision.Lab.Benchmarks.Serving;

/// <summary>An image file the load sends, with its name (the server names it in any error).</summary>
/// <param name="Name">File name sent in the multipart form.</param>
/// <param name="Data">The encoded file.</param>
public sealed record Upload(string Name, byte[] Data)
{
    /// <summary>Reads <paramref name="path"/>.</summary>
    public static Upload FromFile(string path) => new(Path.GetFileName(path), File.ReadAllBytes(path));
}

/// <summary>What one closed-loop run saw from the client side.</summary>
/// <param name="Clients">Concurrent clients, each with one request in flight at a time.</param>
/// <param name="Requests">Requests sent.</param>
/// <param name="Responses">HTTP responses received (any status).</param>
/// <param name="Errors">Responses that were not 2xx plus requests that got no response; the first message is in <paramref name="FirstError"/>.</param>
/// <param name="Elapsed">From the first request to the last response.</param>
/// <param name="LatenciesMs">Per answered request, milliseconds from sending to the whole body read, sorted ascending.</param>
/// <param name="FirstError">The first error's description, or null.</param>
public sealed record LoadRun(int Clients, long Requests, long Responses, long Errors, TimeSpan Elapsed, double[] LatenciesMs, string? FirstError)
{
    /// <summary>Responses per second over the run.</summary>
    public double RequestsPerSecond => Elapsed > TimeSpan.Zero ? Responses / Elapsed.TotalSeconds : 0;

    /// <summary>Nearest-rank percentile of the latencies (0 when nothing was answered).</summary>
    public double PercentileMs(double percent)
    {
        if (LatenciesMs.Length == 0) return 0;
        int rank = (int)Math.Ceiling(percent / 100 * LatenciesMs.Length);
        return LatenciesMs[Math.Clamp(rank - 1, 0, LatenciesMs.Length - 1)];
    }
}

/// <summary>Closed-loop load on <c>POST /embed/image</c>: N clients each send one image (multipart), wait for the whole
/// answer, and send the next, until the time or the request budget is spent. Requests in flight when time runs out are
/// finished and counted, so every request sent is either a response or an error.</summary>
public static class LoadGenerator
{
    /// <summary>Runs <paramref name="clients"/> clients against <paramref name="client"/>'s base address for
    /// <paramref name="duration"/> or until <paramref name="maxRequests"/> requests were sent, whichever comes first.</summary>
    /// <param name="client">Client whose BaseAddress is the server; shared by all simulated clients (one connection each).</param>
    /// <param name="images">Encoded image files; client c sends images c, c + 1, … in turn.</param>
    /// <param name="clients">Concurrent clients.</param>
    /// <param name="duration">No request starts after this much time.</param>
    /// <param name="maxRequests">Most requests over all clients (null: no cap).</param>
    /// <param name="cancellationToken">Stops the run early (it then throws).</param>
    public static async Task<LoadRun> RunAsync(HttpClient client, IReadOnlyList<Upload> images, int clients, TimeSpan duration, long? maxRequests = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (images.Count == 0) throw new ArgumentException("the load needs at least one image");
        if (clients < 1) throw new ArgumentException($"clients must be at least 1, got {clients}");
        if (maxRequests is < 1) throw new ArgumentException($"the request budget must be at least 1, got {maxRequests}");
        long started = 0, responses = 0, errors = 0;
        string? firstError = null;
        var latencies = new List<double>[clients];
        var clock = Stopwatch.StartNew();

        async Task Client(int index)
        {
            var mine = latencies[index] = [];
            for (int turn = 0; ; turn++)
            {
                if (clock.Elapsed >= duration) return;
                if (Interlocked.Increment(ref started) > (maxRequests ?? long.MaxValue)) { Interlocked.Decrement(ref started); return; }
                long sent = Stopwatch.GetTimestamp();
                try
                {
                    using var form = new MultipartFormDataContent();
                    var upload = images[(index + turn) % images.Count];
                    form.Add(new ByteArrayContent(upload.Data), "image", upload.Name);
                    using var response = await client.PostAsync("embed/image", form, cancellationToken).ConfigureAwait(false);
                    var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref responses);
                    if (response.IsSuccessStatusCode) mine.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    else Fail($"HTTP {(int)response.StatusCode}: {body}");
                }
                catch (HttpRequestException e) { Fail(e.Message); }
                catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested) { Fail($"timed out: {e.Message}"); }
            }
        }

        void Fail(string message)
        {
            Interlocked.Increment(ref errors);
            Interlocked.CompareExchange(ref firstError, message, null);
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => Client(i), cancellationToken))).ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new LoadRun(clients, Interlocked.Read(ref started), Interlocked.Read(ref responses), Interlocked.Read(ref errors), elapsed, all, firstError);
    }
}
