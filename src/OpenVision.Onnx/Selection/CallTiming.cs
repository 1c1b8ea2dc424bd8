using System.Diagnostics;

namespace OpenVision.Onnx.Selection;

/// <summary>How this project times calls it compares: warm first, then several paths in blocks, forth and back.</summary>
public static class CallTiming
{
    /// <summary>Rounds of <see cref="ForthAndBack"/> for a path's <paramref name="budget"/> that leave about two calls of
    /// <paramref name="call"/> in each of its blocks (budget / (2 · rounds) long), at least 1 and at most
    /// <paramref name="most"/>. With one round of two blocks, the calls of a path that takes half a second sat in two
    /// stretches of a few seconds, and on a shared 2-core VM whose speed wandered by a third within minutes the two ONNX
    /// Runtime paths of one graph (ViT-B/16 batch 1) read 0.76–1.39x of each other in four runs.</summary>
    public static int RoundsFor(TimeSpan budget, TimeSpan call, int most = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(most, 1);
        if (call <= TimeSpan.Zero) return most;
        return (int)Math.Clamp(Math.Floor(budget / (4 * call)), 1, most);
    }

    /// <summary>Calls <paramref name="run"/> until warm: 100 calls, or 3 s of them, or <paramref name="limit"/> where that is
    /// shorter (at least <paramref name="minCalls"/>).
    /// The runtime recompiles hot methods on a background thread twice (after about 30 calls, then with their profile),
    /// and that thread takes a core from libtorch's; with two or three warm-up calls the recompilation fell into the
    /// timed runs (Tiny/16-224 batch 1: p99 136–154 ms of 50 runs, 15–37 ms after 100 warm-up calls; TorchSharp measured
    /// 16.9 images/s against 42.8 warm in <c>--backend fastest</c>'s comparison on a 2-core Zen 4).</summary>
    /// <returns>How long the last call took: the warmest estimate of a call there is before timing.</returns>
    public static TimeSpan WarmUp(Action run, TimeSpan? limit = null, int minCalls = 2)
    {
        ArgumentNullException.ThrowIfNull(run);
        double seconds = Math.Min(3, limit?.TotalSeconds ?? 3);
        var warm = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        for (int calls = 0; calls < minCalls || (calls < 100 && warm.Elapsed.TotalSeconds < seconds); calls++)
        {
            var call = Stopwatch.StartNew();
            run();
            last = call.Elapsed;
        }
        return last;
    }

    /// <summary><see cref="ForthAndBack"/> with <paramref name="budget"/> per path, in <see cref="RoundsFor"/> rounds for
    /// calls of about <paramref name="call"/>: one round of blocks of at least 2 calls where a call takes over a quarter
    /// of the budget, else rounds of blocks of at least 1.</summary>
    public static void InRounds(IReadOnlyList<(Action Settle, Action Measure)> paths, TimeSpan budget, TimeSpan call, int maximumPerBlock = int.MaxValue)
    {
        int rounds = RoundsFor(budget, call);
        ForthAndBack(paths, budget / (2 * rounds), rounds > 1 ? 1 : 2, maximumPerBlock, rounds);
    }

    /// <summary>Runs <paramref name="paths"/> in two blocks each per round, forth and back (A B C C B A), rather than call for
    /// call: each ONNX Runtime session and libtorch keep their own thread pools, whose idle threads spin for a while
    /// after a call, and a call of another path right after it shares the cores with them (on a 2-core Zen 4,
    /// Tiny/16-224 at batch 1 in ONNX Runtime ran at 22 images/s alternating with a second session call for call, 58 in
    /// blocks, 49 with spinning off). A block starts with one <c>settle</c> call, while the previous path's threads
    /// settle, then makes <c>measure</c> calls until <paramref name="blockTime"/> has passed, at least
    /// <paramref name="minimumPerBlock"/> and at most <paramref name="maximumPerBlock"/> of them.</summary>
    /// <param name="paths">What to call untimed at the start of a block, and what to call for each timed run (the caller times it).</param>
    /// <param name="blockTime">How long a block keeps calling once its minimum is done.</param>
    /// <param name="minimumPerBlock">Timed calls per block, however long they take.</param>
    /// <param name="maximumPerBlock">Timed calls per block at most, however short.</param>
    /// <param name="rounds">Times the whole forth and back is repeated (A B C C B A A B C C B A for 2): one round cancels
    /// a steady drift of the machine's speed; more rounds also spread each path's calls over the run where the speed
    /// wanders (see <see cref="RoundsFor"/>).</param>
    public static void ForthAndBack(IReadOnlyList<(Action Settle, Action Measure)> paths, TimeSpan blockTime, int minimumPerBlock = 2, int maximumPerBlock = int.MaxValue,
        int rounds = 1)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (minimumPerBlock < 1 || maximumPerBlock < minimumPerBlock) throw new ArgumentOutOfRangeException(nameof(minimumPerBlock), "at least one call per block, and no more than the maximum");
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var round = paths.Concat(paths.Reverse()).ToArray();
        foreach (var (settle, measure) in Enumerable.Repeat(round, rounds).SelectMany(blocks => blocks))
        {
            settle();
            var block = Stopwatch.StartNew();
            for (int calls = 0; calls < minimumPerBlock || (block.Elapsed < blockTime && calls < maximumPerBlock); calls++) measure();
        }
    }
}
