using System.Diagnostics;
using System.Runtime.ExceptionServices;
using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Models;

/// <summary>Runs one batch as contiguous parts, each on a thread of its own with one OpenMP and MKL thread, and merges the
/// results in batch order. The calling thread takes parts too, and .NET thread-pool threads join it; if none is free,
/// the caller takes every part, so a busy pool delays nothing and cannot deadlock.</summary>
/// <remarks>Used by <see cref="ContentionAwareThreads"/> while other processes compete for the cores: libtorch's
/// threads wait for each other at the end of every parallel region, independent parts never do, and a part whose
/// thread got more of a core is simply done sooner.</remarks>
internal static class BatchParts
{
    /// <summary>CPU seconds the part threads got, and the wall seconds they spent in their parts, summed over parts.</summary>
    public readonly record struct Effort(double CpuSeconds, double ThreadSeconds);

    /// <summary>Splits <paramref name="batch"/> rows into <paramref name="parts"/> (2 or more, at most the batch) and
    /// returns <paramref name="merge"/> of <paramref name="slice"/>(start, count) per part. Every part is disposed after
    /// the merge, or when any part fails (the first failure is rethrown once all parts are done).</summary>
    public static T Run<T>(int batch, int parts, Func<int, int, T> slice, Func<IReadOnlyList<T>, T> merge, out Effort effort)
        where T : class, IDisposable
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parts, batch);
        var job = new Job<T>(batch, parts, slice);
        for (int i = 1; i < parts; i++) ThreadPool.UnsafeQueueUserWorkItem(static j => j.TakeParts(), job, preferLocal: false);
        job.TakeParts();
        job.WaitForAll();
        effort = new Effort(job.CpuSeconds, job.ThreadSeconds);
        try
        {
            if (job.FirstError is { } error) ExceptionDispatchInfo.Capture(error).Throw();
            return merge(job.Results!);
        }
        finally
        {
            foreach (var result in job.Results) result?.Dispose();
        }
    }

    private sealed class Job<T>(int batch, int parts, Func<int, int, T> slice) where T : class
    {
        public readonly T?[] Results = new T?[parts];
        private readonly ManualResetEventSlim done = new(false);
        private readonly object gate = new();
        private int next = -1, remaining = parts;
        private int Parts => Results.Length;

        public double CpuSeconds { get; private set; }
        public double ThreadSeconds { get; private set; }
        public Exception? FirstError { get; private set; }

        public void TakeParts()
        {
            for (int part = Interlocked.Increment(ref next); part < Parts; part = Interlocked.Increment(ref next)) RunPart(part);
        }

        // Not disposed: the last part may still be inside Set when the waiter wakes, and without a wait handle
        // requested the event holds nothing to release.
        public void WaitForAll() => done.Wait();

        private void RunPart(int part)
        {
            int start = (int)((long)batch * part / Parts), end = (int)((long)batch * (part + 1) / Parts);
            // libtorch sets a thread's OpenMP count on its first use there; done first, so that it cannot undo ours.
            torch.get_num_threads();
            var limit = CallerThreads.LimitTo(1);
            double cpu = CallerThreads.CpuSeconds();
            long started = Stopwatch.GetTimestamp();
            try
            {
                Results[part] = slice(start, end - start);
            }
            catch (Exception e)
            {
                lock (gate) FirstError ??= e;
            }
            finally
            {
                double wall = Stopwatch.GetElapsedTime(started).TotalSeconds, used = CallerThreads.CpuSeconds() - cpu;
                limit.Dispose();
                lock (gate)
                {
                    CpuSeconds += used;
                    ThreadSeconds += wall;
                }
                if (Interlocked.Decrement(ref remaining) == 0) done.Set();
            }
        }
    }
}
