using System.Diagnostics;

namespace OpenVision.Onnx.Selection;

/// <summary>Times several ways of doing the same work in blocks, forth and back (A B C C B A), rather than call for call:
/// each ONNX Runtime session and libtorch keep their own thread pools, whose idle threads spin for a while after a call,
/// and a call of another path right after it shares the cores with them. On a 2-core Zen 4, Tiny/16-224 at batch 1 in
/// ONNX Runtime ran at 22 images/s alternating with a second session call for call, 58 in blocks (49 with spinning
/// off). Each block starts with one untimed call, while the previous path's threads settle.</summary>
public static class ForthAndBackBlocks
{
    /// <summary>Runs <paramref name="paths"/> in two blocks each; within a block, <c>measure</c> calls until
    /// <paramref name="blockTime"/> has passed, at least <paramref name="minimumPerBlock"/> and at most
    /// <paramref name="maximumPerBlock"/> of them, after one <c>settle</c> call.</summary>
    /// <param name="paths">What to call untimed at the start of a block, and what to call for each timed run (the caller times it).</param>
    /// <param name="blockTime">How long a block keeps calling once its minimum is done.</param>
    /// <param name="minimumPerBlock">Timed calls per block, however long they take.</param>
    /// <param name="maximumPerBlock">Timed calls per block at most, however short.</param>
    public static void Run(IReadOnlyList<(Action Settle, Action Measure)> paths, TimeSpan blockTime, int minimumPerBlock = 2, int maximumPerBlock = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (minimumPerBlock < 1 || maximumPerBlock < minimumPerBlock) throw new ArgumentOutOfRangeException(nameof(minimumPerBlock), "at least one call per block, and no more than the maximum");
        foreach (var (settle, measure) in paths.Concat(paths.Reverse()))
        {
            settle();
            var block = Stopwatch.StartNew();
            for (int calls = 0; calls < minimumPerBlock || (block.Elapsed < blockTime && calls < maximumPerBlock); calls++) measure();
        }
    }
}
