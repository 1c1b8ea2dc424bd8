using System.Diagnostics;
using OpenVision.Native;

namespace OpenVision.Models;

/// <summary>How a model's inference calls use libtorch's threads: all of them on one call (the calling thread's OpenMP
/// setting) on a quiet machine; while other processes compete for the cores and it measures faster, one thread for a
/// single image, or the batch split into parts that run side by side, one thread each.</summary>
/// <remarks>libtorch's OpenMP threads spin-wait for each other at the end of every parallel region; when another
/// process holds a core, the waiting thread burns its time slice, and a Tiny batch-1 call that takes 14 ms quiet takes
/// 100–400 ms (docs/speed.md, "thread waits under load"). One thread has nobody to wait for, and neither have parts of
/// a batch on threads of their own (<see cref="BatchParts"/>): they keep every core the scheduler grants busy. The
/// signal is CPU time over wall time of the threads that ran the call: about 1 on a quiet machine (they compute or spin
/// throughout), well below where other work takes the cores. Only consecutive calls with that evidence lead to a trial
/// of the alternative, so a quiet machine runs as before; while the alternative is chosen, all threads are tried again
/// after as many calls, sooner after calls without contention, and at once after 16 of them in a row. A trial of all
/// threads is two calls judged by the second (under load the first call on all threads after a spell without them runs
/// on the scheduler's credit for the sleeping worker, and would look faster than that layout stays). Trials back off
/// (2, 4, 8 … 64 calls before the next) while they lose, and take at most a tenth of the time: a trial waits until the
/// calls since the last took nine times what it is expected to take. The choice is kept per model, task, image size and
/// power-of-two batch size. Thread counts are set for the threads of the call only and restored after it: nothing else
/// in the process changes. Features do not depend on the layout beyond float32 round-off (libtorch and MKL split rows
/// across threads, not the sums within them). Off with <c>OPENVISION_ADAPTIVE_THREADS=0</c> or <see cref="Enabled"/>;
/// unavailable without <c>libopenvision_pool.so</c>.</remarks>
public sealed class ContentionAwareThreads
{
    /// <summary>Calls whose threads got less than this share of their wall time in CPU time count as contended.</summary>
    public const double ContendedBelow = 0.75;

    /// <summary>A trial wins when its time per image is below this fraction of the current choice's.</summary>
    public const double SwitchMargin = 0.9;

    /// <summary>The most calls between two trials that keep losing (unless the time share below needs more).</summary>
    public const int MaxTrialInterval = 64;

    /// <summary>At most this share of the time goes to trials: a trial waits until the calls since the last one took
    /// nine times what the trial is expected to take (under load a call on all threads can take 50 times one on one).</summary>
    public const double MaxTrialTimeShare = 0.1;

    // Consecutive calls with evidence before the first trial of an episode; a quiet streak this long ends the episode.
    private const int FirstTrialInterval = 2;
    private const int QuietStreakResetsInterval = 32;
    // Calls in a row that got their whole cores and start a trial of all threads whatever it costs: beside two busy
    // processes one thread gets its whole core for up to 9 calls in a row (2 cores, Tiny, batch 1), on a quiet machine
    // for every call.
    private const int QuietStreakOverridesShare = 16;
    // Calls per trial of all threads: the first settles and is not judged. After a spell on one thread, the first call
    // on all threads runs on the scheduler's credit for the sleeping worker and is fast under load; the calls after it
    // are not. A trial of one thread is one call.
    private const int AllThreadsTrialCalls = 2;
    private const double Smoothing = 0.3;

    private readonly object gate = new();
    private readonly Dictionary<ThreadChoiceKey, State> states = [];
    private bool enabled = CallerThreads.Available;

    /// <summary>Whether calls adapt how they use the threads (default: where <see cref="Status"/> says available).</summary>
    public bool Enabled
    {
        get => enabled;
        set => enabled = value && CallerThreads.Available;
    }

    /// <summary>A layout every call uses instead of the adaptive choice (null, the default: adapt). A single image
    /// pinned to <see cref="ThreadLayout.BatchParts"/> runs on one thread. Ignored while <see cref="Enabled"/> is false.
    /// For machines known to be oversubscribed, and for bit-for-bit reproducible runs under changing load: the layouts
    /// agree within float32 round-off, not always bit for bit (a batch in parts is multiplied in smaller blocks).</summary>
    public ThreadLayout? Pinned { get; set; }

    /// <summary>Sets <see cref="Pinned"/> to <paramref name="layout"/> (null: adapt) until the returned scope is
    /// disposed, which puts back what was pinned before.</summary>
    public IDisposable PinFor(ThreadLayout? layout)
    {
        var scope = new PinScope(this, Pinned);
        Pinned = layout;
        return scope;
    }

    private sealed class PinScope(ContentionAwareThreads threads, ThreadLayout? previous) : IDisposable
    {
        public void Dispose() => threads.Pinned = previous;
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

    /// <summary>Runs a call of <paramref name="batch"/> rows in the chosen layout: <paramref name="slice"/>(0, batch)
    /// with the chosen thread count on the calling thread, or <paramref name="merge"/> of slices run side by side.</summary>
    internal T Run<T>(string task, int size, int batch, Func<int, int, T> slice, Func<IReadOnlyList<T>, T> merge) where T : class, IDisposable
    {
        if (!enabled) return slice(0, batch);
        int full = CallerThreads.MaxThreads;
        if (full <= 1) return slice(0, batch);
        var key = new ThreadChoiceKey(task, size, Bucket(batch));
        var pinned = Pinned;
        var layout = pinned switch
        {
            null => Choose(key),
            ThreadLayout.BatchParts when batch < 2 => ThreadLayout.OneThread,
            _ => pinned.Value,
        };
        long start = Stopwatch.GetTimestamp();
        if (layout == ThreadLayout.BatchParts)
        {
            var merged = BatchParts.Run(batch, Math.Min(full, batch), slice, merge, out var effort);
            if (pinned is null) Record(key, full, layout, batch, Stopwatch.GetElapsedTime(start).TotalSeconds, effort.CpuSeconds, effort.ThreadSeconds);
            return merged;
        }
        var limit = layout == ThreadLayout.OneThread ? CallerThreads.LimitTo(1) : (CallerThreads.Limit?)null;
        try
        {
            double cpu = CallerThreads.CpuSeconds();
            var result = slice(0, batch);
            double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (pinned is null) Record(key, full, layout, batch, wall, CallerThreads.CpuSeconds() - cpu, wall);
            return result;
        }
        finally
        {
            limit?.Dispose();
        }
    }

    /// <summary>The layout for the next call of <paramref name="key"/>.</summary>
    internal ThreadLayout Choose(ThreadChoiceKey key)
    {
        lock (gate)
        {
            var state = StateOf(key);
            bool alternative = state.AlternativeChosen != (state.TrialCallsLeft > 0);
            return alternative ? Alternative(key) : ThreadLayout.AllThreads;
        }
    }

    /// <summary>What contention may lead to for <paramref name="key"/>: one thread for single images, parts for batches.</summary>
    internal static ThreadLayout Alternative(ThreadChoiceKey key) => key.BatchBucket == 1 ? ThreadLayout.OneThread : ThreadLayout.BatchParts;

    /// <summary>Records a finished call: its layout, wall seconds, and the CPU and wall seconds of the threads that ran
    /// it (the calling thread's alone, or the parts' summed).</summary>
    internal void Record(ThreadChoiceKey key, int full, ThreadLayout layout, int batch, double wallSeconds, double cpuSeconds, double threadSeconds)
    {
        if (wallSeconds <= 0 || batch <= 0) return;
        lock (gate)
        {
            var state = StateOf(key);
            double perImage = wallSeconds / batch;
            bool contended = cpuSeconds >= 0 && cpuSeconds < ContendedBelow * threadSeconds;
            bool usedAlternative = layout != ThreadLayout.AllThreads;
            state.Calls++;
            if (contended) state.ContendedCalls++;
            state.Full = full;
            if (usedAlternative != state.AlternativeChosen)
            {
                if (state.TrialCallsLeft > 1)
                {
                    state.TrialCallsLeft--;
                    return;
                }
                state.Trials++;
                state.TrialCallsLeft = 0;
                state.SetEstimate(usedAlternative, perImage);
                if (perImage < SwitchMargin * state.Estimate(state.AlternativeChosen))
                {
                    state.AlternativeChosen = usedAlternative;
                    state.Switches++;
                    state.TrialInterval = FirstTrialInterval;
                }
                else state.TrialInterval = Math.Min(2 * state.TrialInterval, MaxTrialInterval);
                state.CallsTowardTrial = 0;
                state.SecondsTowardTrial = 0;
                state.QuietStreak = 0;
                return;
            }
            state.SecondsTowardTrial += wallSeconds;
            double estimate = state.Estimate(usedAlternative);
            state.SetEstimate(usedAlternative, double.IsNaN(estimate) ? perImage : estimate + Smoothing * (perImage - estimate));
            if (usedAlternative)
            {
                // All threads are tried again now and then, and at once after consecutive calls whose threads got their
                // whole cores (the other work may have stopped).
                state.QuietStreak = contended ? 0 : state.QuietStreak + 1;
                bool due = state.QuietStreak >= FirstTrialInterval | ++state.CallsTowardTrial >= state.TrialInterval;
                if (due && (state.QuietStreak >= QuietStreakOverridesShare || state.Affords(alternative: false, batch, AllThreadsTrialCalls)))
                    state.TrialCallsLeft = AllThreadsTrialCalls;
                return;
            }
            if (contended)
            {
                // All threads, contended: the alternative might do better. The evidence must be consecutive: a lone slow
                // call (a collection, a burst elsewhere) leads to no trial.
                state.QuietStreak = 0;
                if (++state.CallsTowardTrial >= state.TrialInterval && state.Affords(alternative: true, batch, 1)) state.TrialCallsLeft = 1;
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
        public bool AlternativeChosen;
        public int TrialCallsLeft;
        public int TrialInterval = FirstTrialInterval;
        public int CallsTowardTrial;
        public double SecondsTowardTrial;
        public int QuietStreak;
        public int Full;
        public long Calls, ContendedCalls, Trials, Switches;
        private double fullEstimate = double.NaN, alternativeEstimate = double.NaN;

        public double Estimate(bool alternative) => alternative ? alternativeEstimate : fullEstimate;

        // Whether the calls since the last trial took long enough for a trial of `calls` calls of `batch` images in the
        // layout (by its latest estimate; untried layouts are affordable).
        public bool Affords(bool alternative, int batch, int calls)
        {
            double expected = Estimate(alternative) * batch * calls;
            return double.IsNaN(expected) || SecondsTowardTrial >= (1 - MaxTrialTimeShare) / MaxTrialTimeShare * expected;
        }

        public void SetEstimate(bool alternative, double perImage)
        {
            if (alternative) alternativeEstimate = perImage;
            else fullEstimate = perImage;
        }

        public ThreadChoice Snapshot(ThreadChoiceKey key) => new(key.Task, key.Size, key.BatchBucket, AlternativeChosen ? Alternative(key) : ThreadLayout.AllThreads,
            Full, Calls, ContendedCalls, Trials, Switches, fullEstimate, alternativeEstimate);
    }
}

/// <summary>What <see cref="ContentionAwareThreads"/> keeps a choice for: a task ("image", "text"), the image size
/// (0 for text) and the batch size rounded up to a power of two.</summary>
internal readonly record struct ThreadChoiceKey(string Task, int Size, int BatchBucket);

/// <summary>How a call uses libtorch's threads.</summary>
public enum ThreadLayout
{
    /// <summary>One call on all of the calling thread's OpenMP threads (a quiet machine's layout).</summary>
    AllThreads,

    /// <summary>One call on one thread.</summary>
    OneThread,

    /// <summary>The batch split into as many parts as there are threads (no more than there are images), run side by side
    /// on one thread each and merged in order.</summary>
    BatchParts,
}

/// <summary>One of <see cref="ContentionAwareThreads.Choices"/>.</summary>
/// <param name="Task">"image" or "text".</param>
/// <param name="ImageSize">The image side (0 for text).</param>
/// <param name="BatchBucket">Batch sizes up to this power of two (and above the previous one).</param>
/// <param name="Layout">The layout now chosen.</param>
/// <param name="AllThreads">The calling thread's OpenMP thread count (what a quiet machine uses).</param>
/// <param name="Calls">Calls so far.</param>
/// <param name="ContendedCalls">Calls whose threads got less than <see cref="ContentionAwareThreads.ContendedBelow"/> of their wall time.</param>
/// <param name="Trials">Calls run in the other layout to compare.</param>
/// <param name="Switches">Trials that won.</param>
/// <param name="SecondsPerImageAllThreads">Latest estimate with all threads on one call (NaN before any).</param>
/// <param name="SecondsPerImageAlternative">Latest estimate with one thread or batch parts (NaN before any trial).</param>
public sealed record ThreadChoice(string Task, int ImageSize, int BatchBucket, ThreadLayout Layout, int AllThreads, long Calls, long ContendedCalls,
    long Trials, long Switches, double SecondsPerImageAllThreads, double SecondsPerImageAlternative)
{
    /// <summary>One line for reports, e.g. "image 224 b≤8: batch in parts, one of 2 threads each (40 calls, 38 contended, 5 trials, 1 switch)".</summary>
    public override string ToString() =>
        $"{Task}{(ImageSize > 0 ? $" {ImageSize}" : "")} b≤{BatchBucket}: {Describe()} ({Calls} calls, {ContendedCalls} contended, {Trials} trials, {Switches} switches)";

    private string Describe() => Layout switch
    {
        ThreadLayout.OneThread => $"1 of {AllThreads} threads",
        ThreadLayout.BatchParts => $"batch in parts, one of {AllThreads} threads each",
        _ => $"{AllThreads} of {AllThreads} threads",
    };
}
