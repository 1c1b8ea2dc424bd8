using OpenVision.Models;
using TorchSharp;

namespace OpenVision.Tests.Native;

/// <summary>These tests force garbage collections on purpose, or count finalizations process-wide: they run alone,
/// after the parallel ones.</summary>
[CollectionDefinition(nameof(ScalarLifetimeCollection), DisableParallelization = true)]
public sealed class ScalarLifetimeCollection;

/// <summary>Inference while other threads collect garbage all the time: the situation in which a temporary
/// TorchSharp Scalar can be freed while libtorch still reads it (see <c>Native.KeptScalars</c>).</summary>
[Collection(nameof(ScalarLifetimeCollection))]
public class ScalarRaceTests
{
    private const int Iterations = 150;

    [Theory]
    [InlineData(ThreadLayout.AllThreads)]
    [InlineData(ThreadLayout.BatchParts)]
    public void InferenceWhileOtherThreadsCollectEqualsAQuietRun(ThreadLayout layout)
    {
        using var workload = new InferenceWorkload(layout);
        var quiet = workload.Run();
        var failures = new List<string>();
        long collections;
        using (var hammer = new CollectorHammer(threads: 2))
        {
            for (int i = 0; i < Iterations && failures.Count < 5; i++)
            {
                try
                {
                    var outputs = workload.Run();
                    for (int k = 0; k < quiet.Count; k++)
                        if (!outputs[k].Equals(quiet[k])) failures.Add($"iteration {i}: output {k} differs from the quiet run ({Difference(outputs[k], quiet[k])})");
                    foreach (var t in outputs) t.Dispose();
                }
                catch (Exception e)
                {
                    failures.Add($"iteration {i}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                }
            }
            collections = hammer.Collections;
        }
        foreach (var t in quiet) t.Dispose();
        Assert.True(collections >= Iterations, $"only {collections} forced collections happened during {Iterations} iterations");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    // How far apart: a last-bit difference points at a summation order, a wild one at memory read after it was freed.
    private static string Difference(torch.Tensor actual, torch.Tensor expected)
    {
        if (!actual.shape.SequenceEqual(expected.shape)) return $"shape [{string.Join(", ", actual.shape)}] against [{string.Join(", ", expected.shape)}]";
        using var a = actual.to(torch.ScalarType.Float64);
        using var e = expected.to(torch.ScalarType.Float64);
        using var gap = (a - e).abs();
        using var differing = a.ne(e);
        long count = differing.sum().item<long>();
        return $"{count} of {a.numel()} elements, largest difference {gap.max().item<double>():G3} at values up to {e.abs().max().item<double>():G3}";
    }
}

/// <summary>Threads that allocate and force full collections (finalizers included) until disposed.</summary>
internal sealed class CollectorHammer : IDisposable
{
    private readonly Thread[] workers;
    private volatile bool stop;
    private long collections;

    public CollectorHammer(int threads)
    {
        workers = Enumerable.Range(0, threads).Select(_ => new Thread(Hammer) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
    }

    public long Collections => Interlocked.Read(ref collections);

    private void Hammer()
    {
        var keep = new List<byte[]>();
        while (!stop)
        {
            for (int i = 0; i < 64; i++) keep.Add(new byte[4096]);
            if (keep.Count > 4096) keep.Clear();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Interlocked.Increment(ref collections);
        }
    }

    public void Dispose()
    {
        stop = true;
        foreach (var w in workers) w.Join();
    }
}
