using System.Diagnostics;
using OpenVision.Native;

namespace OpenVision.Models;

/// <summary>How many of libtorch's threads a model's inference calls use: all of them (the calling thread's OpenMP
/// setting) on a quiet machine, one while other processes compete for the cores and one thread measures faster.</summary>
/// <remarks>libtorch's OpenMP threads spin-wait for each other at the end of every parallel region; when another
/// process holds a core, the waiting thread burns its time slice, and a Tiny batch-1 call that takes 14 ms quiet takes
/// 100–400 ms (docs/speed.md, "thread waits under load"). One thread has nobody to wait for. The signal is the calling
/// thread's CPU time over the call's wall time: about 1 on a quiet machine (the thread computes or spins throughout),
/// well below where other work takes the core. Only consecutive calls with that evidence lead to a trial of one
/// thread, so a quiet machine runs as before; while one thread is chosen, all threads are tried again after as many
/// calls, and at once after two calls in a row without contention. A trial of all threads is two calls judged by the
/// second (under load the first call on all threads after a spell on one runs on the scheduler's credit for the
/// sleeping worker, and would look faster than that count stays). Trials back off (2, 4, 8 … 64 calls before the next) while they
/// lose. The choice is kept per model, task, image size and power-of-two batch size. The thread
/// count is set for the calling thread only and restored after the call: nothing else in the process changes.
/// Features do not depend on it beyond float32 round-off (identical bits where measured: libtorch and MKL split rows
/// across threads, not the sums within them). Off with <c>OPENVISION_ADAPTIVE_THREADS=0</c> or <see cref="Enabled"/>;
/// unavailable without <c>libopenvision_pool.so</c>.</remarks>
public sealed class ContentionAwareThreads
{
    /// <summary>Calls whose thread got less than this share of their wall time in CPU time count as contended.</summary>
    public const double ContendedBelow = 0.75;

    /// <summary>A trial wins when its time per image is below this fraction of the current choice's.</summary>
    public const double SwitchMargin = 0.9;

    /// <summary>The most calls between two trials that keep losing.</summary>
    public const int MaxTrialInterval = 64;

    // Consecutive calls with evidence before the first trial of an episode; a quiet streak this long ends the episode.
    private const int FirstTrialInterval = 2;
    private const int QuietStreakResetsInterval = 32;
    // Calls per trial of all threads: the first settles and is not judged. After a spell on one thread, the first call
    // on all threads runs on the scheduler's credit for the sleeping worker and is fast under load; the calls after it
    // are not. A trial of one thread is one call.
    private const int AllThreadsTrialCalls = 2;
    private const double Smoothing = 0.3;

    private readonly object gate = new();
    private readonly Dictionary<ThreadChoiceKey, State> states = [];
    private bool enabled = CallerThreads.Available;

    /// <summary>Whether calls adapt their thread count (default: where <see cref="Status"/> says available).</summary>
    public bool Enabled
    {
        get => enabled;
        set => enabled = value && CallerThreads.Available;
    }

    /// <summary>"available", or why the thread count cannot adapt here (opt-out variable, platform, missing shim).</summary>
    public static string Status => CallerThreads.Status;

    /// <summary>What was chosen so far, one entry per task, image size and batch-size bucket.</summary>
    public IReadOnlyList<ThreadChoice> Choices()
    {
        lock (gate)
            return states.OrderBy(s => s.Key.Task, StringComparer.Ordinal).ThenBy(s => s.Key.Size).ThenBy(s => s.Key.BatchBucket)
                .Select(s => s.Value.Snapshot(s.Key)).ToList();
    }

    /// <summary>Runs <paramref name="call"/> with the chosen thread count on the calling thread, then restores it.</summary>
    internal T Run<T>(string task, int size, int batch, Func<T> call)
    {
        if (!enabled) return call();
        int full = CallerThreads.MaxThreads;
        if (full <= 1) return call();
        var key = new ThreadChoiceKey(task, size, Bucket(batch));
        int threads = Choose(key, full);
        if (threads != full) CallerThreads.SetThreads(threads);
        try
        {
            double cpu = CallerThreads.CpuSeconds();
            long start = Stopwatch.GetTimestamp();
            var result = call();
            double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            Record(key, full, threads, batch, wall, CallerThreads.CpuSeconds() - cpu);
            return result;
        }
        finally
        {
            if (threads != full) CallerThreads.SetThreads(full);
        }
    }

    /// <summary>The thread count for the next call of <paramref name="key"/> when all threads are <paramref name="full"/>.</summary>
    internal int Choose(ThreadChoiceKey key, int full)
    {
        lock (gate)
        {
            var state = StateOf(key);
            bool single = state.SingleChosen != (state.TrialCallsLeft > 0);
            return single ? 1 : full;
        }
    }

    /// <summary>Records a finished call: <paramref name="threads"/> used, its wall and CPU seconds on the calling thread.</summary>
    internal void Record(ThreadChoiceKey key, int full, int threads, int batch, double wallSeconds, double cpuSeconds)
    {
        if (wallSeconds <= 0 || batch <= 0) return;
        lock (gate)
        {
            var state = StateOf(key);
            double perImage = wallSeconds / batch;
            bool contended = cpuSeconds >= 0 && cpuSeconds < ContendedBelow * wallSeconds;
            bool usedSingle = threads == 1;
            state.Calls++;
            if (contended) state.ContendedCalls++;
            state.Full = full;
            if (usedSingle != state.SingleChosen)
            {
                if (state.TrialCallsLeft > 1)
                {
                    state.TrialCallsLeft--;
                    return;
                }
                state.Trials++;
                state.TrialCallsLeft = 0;
                state.SetEstimate(usedSingle, perImage);
                if (perImage < SwitchMargin * state.Estimate(state.SingleChosen))
                {
                    state.SingleChosen = usedSingle;
                    state.Switches++;
                    state.TrialInterval = FirstTrialInterval;
                }
                else state.TrialInterval = Math.Min(2 * state.TrialInterval, MaxTrialInterval);
                state.CallsTowardTrial = 0;
                state.QuietStreak = 0;
                return;
            }
            double estimate = state.Estimate(usedSingle);
            state.SetEstimate(usedSingle, double.IsNaN(estimate) ? perImage : estimate + Smoothing * (perImage - estimate));
            if (usedSingle)
            {
                // One thread: all threads are tried again now and then, and at once after consecutive calls that got their
                // whole core (the other work may have stopped).
                state.QuietStreak = contended ? 0 : state.QuietStreak + 1;
                if (state.QuietStreak >= FirstTrialInterval || ++state.CallsTowardTrial >= state.TrialInterval) state.TrialCallsLeft = AllThreadsTrialCalls;
                return;
            }
            if (contended)
            {
                // All threads, contended: one thread might do better. The evidence must be consecutive: a lone slow call
                // (a collection, a burst elsewhere) leads to no trial.
                state.QuietStreak = 0;
                if (++state.CallsTowardTrial >= state.TrialInterval) state.TrialCallsLeft = 1;
                return;
            }
            state.CallsTowardTrial = 0;
            if (++state.QuietStreak >= QuietStreakResetsInterval) state.TrialInterval = FirstTrialInterval;
        }
    }

    private State StateOf(ThreadChoiceKey key)
    {
        if (!states.TryGetValue(key, out var state)) states[key] = state = new State();
        return state;
    }

    private static int Bucket(int batch) => batch <= 1 ? 1 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)batch);

    private sealed class State
    {
        public bool SingleChosen;
        public int TrialCallsLeft;
        public int TrialInterval = FirstTrialInterval;
        public int CallsTowardTrial;
        public int QuietStreak;
        public int Full;
        public long Calls, ContendedCalls, Trials, Switches;
        private double fullEstimate = double.NaN, singleEstimate = double.NaN;

        public double Estimate(bool single) => single ? singleEstimate : fullEstimate;

        public void SetEstimate(bool single, double perImage)
        {
            if (single) singleEstimate = perImage;
            else fullEstimate = perImage;
        }

        public ThreadChoice Snapshot(ThreadChoiceKey key) => new(key.Task, key.Size, key.BatchBucket, SingleChosen ? 1 : Full, Full,
            Calls, ContendedCalls, Trials, Switches, fullEstimate, singleEstimate);
    }
}

/// <summary>What <see cref="ContentionAwareThreads"/> keeps a choice for: a task ("image", "text"), the image size
/// (0 for text) and the batch size rounded up to a power of two.</summary>
internal readonly record struct ThreadChoiceKey(string Task, int Size, int BatchBucket);

/// <summary>One of <see cref="ContentionAwareThreads.Choices"/>.</summary>
/// <param name="Task">"image" or "text".</param>
/// <param name="ImageSize">The image side (0 for text).</param>
/// <param name="BatchBucket">Batch sizes up to this power of two (and above the previous one).</param>
/// <param name="Threads">The thread count now chosen.</param>
/// <param name="AllThreads">The calling thread's OpenMP thread count (what a quiet machine uses).</param>
/// <param name="Calls">Calls so far.</param>
/// <param name="ContendedCalls">Calls whose thread got less than <see cref="ContentionAwareThreads.ContendedBelow"/> of the wall time.</param>
/// <param name="Trials">Calls run with the other thread count to compare.</param>
/// <param name="Switches">Trials that won.</param>
/// <param name="SecondsPerImageAllThreads">Latest estimate with all threads (NaN before any).</param>
/// <param name="SecondsPerImageOneThread">Latest estimate with one thread (NaN before any trial).</param>
public sealed record ThreadChoice(string Task, int ImageSize, int BatchBucket, int Threads, int AllThreads, long Calls, long ContendedCalls,
    long Trials, long Switches, double SecondsPerImageAllThreads, double SecondsPerImageOneThread)
{
    /// <summary>One line for reports, e.g. "image 224 b≤8: 1 of 2 threads (40 calls, 38 contended, 5 trials, 1 switch)".</summary>
    public override string ToString() =>
        $"{Task}{(ImageSize > 0 ? $" {ImageSize}" : "")} b≤{BatchBucket}: {Threads} of {AllThreads} threads ({Calls} calls, {ContendedCalls} contended, {Trials} trials, {Switches} switches)";
}
