using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Tests.Models;

/// <summary>The adaptive thread layout: its decisions on given timings (quiet calls never lead to a trial; consecutive
/// contended ones do; a winning trial switches, a losing one backs off; freed cores lead back; batches are split rather
/// than put on one thread), and on a real model that the chosen count is what libtorch's regions see during the call,
/// the caller's setting is restored after it, and the features do not change.</summary>
public class ContentionAwareThreadsTests
{
    private static readonly ThreadChoiceKey Key = new("image", 224, 1);
    private const int All = 2;
    private const ThreadLayout Full = ThreadLayout.AllThreads, One = ThreadLayout.OneThread;

    // One call in the given layout taking `seconds`, of which its threads got `cpuShare` in CPU time.
    private static void Call(ContentionAwareThreads threads, ThreadLayout used, double seconds, double cpuShare, ThreadChoiceKey? key = null) =>
        threads.Record(key ?? Key, All, used, batch: (key ?? Key).BatchBucket, wallSeconds: seconds, cpuSeconds: cpuShare * seconds, threadSeconds: seconds);

    // Runs calls the way Run would: the chosen layout, timed by `secondsFor(layout)` with the CPU share `cpuShare`.
    private static List<ThreadLayout> Drive(ContentionAwareThreads threads, int calls, Func<ThreadLayout, double> secondsFor, double cpuShare,
        ThreadChoiceKey? key = null)
    {
        var used = new List<ThreadLayout>();
        for (int i = 0; i < calls; i++)
        {
            var layout = threads.Choose(key ?? Key);
            used.Add(layout);
            Call(threads, layout, secondsFor(layout), cpuShare, key);
        }
        return used;
    }

    [Fact]
    public void QuietCallsNeverTryOneThread()
    {
        var threads = new ContentionAwareThreads();
        var used = Drive(threads, 1000, layout => layout == One ? 0.010 : 0.020, cpuShare: 1.0); // one thread would even be faster
        Assert.All(used, layout => Assert.Equal(Full, layout));
        var choice = Assert.Single(threads.Choices());
        Assert.Equal((0L, 0L, 1000L), (choice.Trials, choice.ContendedCalls, choice.Calls));
    }

    [Fact]
    public void ALoneSlowCallLeadsToNoTrial()
    {
        var threads = new ContentionAwareThreads();
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(Full, threads.Choose(Key));
            Call(threads, Full, 0.020, cpuShare: i % 5 == 0 ? 0.4 : 1.0);
        }
        Assert.Equal(0, Assert.Single(threads.Choices()).Trials);
    }

    [Fact]
    public void ContentionLeadsToOneThreadWhenItMeasuresFaster()
    {
        var threads = new ContentionAwareThreads();
        var used = Drive(threads, 300, layout => layout == One ? 0.030 : 0.044, cpuShare: 0.4);
        // Two contended calls on all threads, a trial call on one thread that wins; from there on one thread, with trials
        // of all threads (two calls each) that lose, after 2, 4, 8 … 64 calls, but never before the calls since the
        // last trial took nine times a trial's 2 × 0.044 s: 27 calls of 0.030 s.
        Assert.Equal([Full, Full, One], used.Take(3));
        var trialStarts = used.Select((layout, i) => (layout, i)).Where(c => c.layout == Full && c.i > 2 && used[c.i - 1] == One).Select(c => c.i).ToList();
        Assert.All(trialStarts, i => Assert.Equal((Full, One), (used[i + 1], used[i + 2])));
        var gaps = trialStarts.Prepend(1).Zip(trialStarts, (a, b) => b - a - 2).ToList();
        Assert.Equal([27, 27, 27, 27, 32, 64], gaps.Take(6));
        var choice = Assert.Single(threads.Choices());
        Assert.Equal((One, 1L), (choice.Layout, choice.Switches));
        Assert.Equal(0.030, choice.SecondsPerImageAlternative, 12);
    }

    [Fact]
    public void TrialsTakeAtMostATenthOfTheTime()
    {
        // Beside busy processes a call on all threads can take 50 times one on one thread (Tiny, batch 1, 2 cores).
        var threads = new ContentionAwareThreads();
        var used = Drive(threads, 5000, layout => layout == One ? 0.025 : 1.25, cpuShare: 0.6);
        double trials = used.Skip(3).Count(layout => layout == Full) * 1.25, total = trials + used.Skip(3).Count(layout => layout == One) * 0.025;
        Assert.InRange(trials / total, 0.05, ContentionAwareThreads.MaxTrialTimeShare);
    }

    [Fact]
    public void LosingTrialsBackOffToEverySixtyFourContendedCalls()
    {
        var threads = new ContentionAwareThreads();
        var used = Drive(threads, 400, layout => layout == One ? 0.060 : 0.050, cpuShare: 0.4);
        var trialCalls = used.Select((layout, i) => (layout, i)).Where(c => c.layout == One).Select(c => c.i).ToList();
        var gaps = trialCalls.Zip(trialCalls.Skip(1), (a, b) => b - a - 1).ToList();
        Assert.Equal(2, trialCalls[0]);
        // 4 and 8 calls of 0.050 s are less than nine times a trial's 0.060 s: those trials wait for 11 calls.
        Assert.Equal([11, 11, 16, 32, 64, 64, 64], gaps.Take(7));
        Assert.Equal(Full, Assert.Single(threads.Choices()).Layout);
    }

    [Fact]
    public void FreedCoresLeadBackToAllThreads()
    {
        var threads = new ContentionAwareThreads();
        // Under load: one thread wins.
        Drive(threads, 9, layout => layout == One ? 0.030 : 0.200, cpuShare: 0.4);
        Assert.Equal(One, threads.Choose(Key));
        // The other work stops: one thread now gets its whole core, and all threads are faster again. A trial of all
        // threads would take more than a tenth of the time by its estimate from under load, but 16 calls in a row
        // without contention start it anyway; its second call decides.
        var used = Drive(threads, 26, layout => layout == One ? 0.030 : 0.015, cpuShare: 1.0);
        Assert.Equal([.. Enumerable.Repeat(One, 16), .. Enumerable.Repeat(Full, 10)], used);
        Assert.Equal(2, Assert.Single(threads.Choices()).Switches);
    }

    [Fact]
    public void ATrialsFirstCallDoesNotDecide()
    {
        // Under load, the first call on all threads after calls on one thread is fast (the sleeping worker's scheduler
        // credit), the ones after it slow: judged by its first call, every trial of all threads would win.
        var threads = new ContentionAwareThreads();
        var previous = Full;
        var used = Drive(threads, 300, layout =>
        {
            double seconds = layout == One ? 0.050 : previous == One ? 0.020 : 0.200;
            previous = layout;
            return seconds;
        }, cpuShare: 0.4);
        var choice = Assert.Single(threads.Choices());
        Assert.Equal((One, 1L), (choice.Layout, choice.Switches));
        Assert.True(used.Count(layout => layout == Full) < 20, $"{used.Count(layout => layout == Full)} of 300 calls on all threads");
    }

    [Fact]
    public void ChoicesAreKeptPerBatchSizeBucketAndTask()
    {
        var threads = new ContentionAwareThreads();
        var other = new ThreadChoiceKey("image", 224, 32);
        Drive(threads, 4, layout => layout == One ? 0.030 : 0.200, cpuShare: 0.4);
        Assert.Equal(One, threads.Choose(Key));
        Assert.Equal(Full, threads.Choose(other));
        Assert.Equal(Full, threads.Choose(new ThreadChoiceKey("text", 0, 1)));
    }

    [Fact]
    public void ABatchUnderContentionIsSplitIntoPartsNotPutOnOneThread()
    {
        var threads = new ContentionAwareThreads();
        var batch = new ThreadChoiceKey("image", 224, 8);
        var used = Drive(threads, 5, layout => layout == ThreadLayout.BatchParts ? 0.030 : 0.200, cpuShare: 0.4, key: batch);
        Assert.Equal([Full, Full, .. Enumerable.Repeat(ThreadLayout.BatchParts, 3)], used);
        var choice = Assert.Single(threads.Choices());
        Assert.Equal(ThreadLayout.BatchParts, choice.Layout);
        Assert.Contains("b≤8: batch in parts, one of 2 threads each (5 calls, 5 contended, 1 trials, 1 switches)", choice.ToString());
    }

    [Fact]
    public void ContentionIsJudgedOnEveryThreadOfTheCall()
    {
        // Parts on two threads, 0.2 s of wall time each: 0.29 CPU seconds between them is below 0.75 of their 0.4 s
        // (contended), though above 0.75 of the call's 0.2 s; 0.31 is not.
        var threads = new ContentionAwareThreads();
        var batch = new ThreadChoiceKey("image", 224, 8);
        threads.Record(batch, All, ThreadLayout.BatchParts, 8, wallSeconds: 0.2, cpuSeconds: 0.29, threadSeconds: 0.4);
        threads.Record(batch, All, ThreadLayout.BatchParts, 8, wallSeconds: 0.2, cpuSeconds: 0.31, threadSeconds: 0.4);
        var choice = Assert.Single(threads.Choices());
        Assert.Equal((2L, 1L), (choice.Calls, choice.ContendedCalls));
    }

    [Fact]
    public void AvailableWhereverTheShimWasBuilt()
    {
        bool shipped = File.Exists(Path.Combine(AppContext.BaseDirectory, TorchThreadTeam.ShimFileName));
        Assert.Equal(shipped, CallerThreads.Available);
        Assert.Equal(shipped ? "available" : CallerThreads.Status, ContentionAwareThreads.Status);
        Assert.Equal(shipped, new ContentionAwareThreads().Enabled);
    }

    [Fact]
    public void TheCallSeesTheChosenCountAndTheCallersCountIsRestored()
    {
        Assert.True(CallerThreads.Available, $"caller thread control: {CallerThreads.Status}");
        int callers = CallerThreads.MaxThreads;
        Assert.True(callers >= 2, "the test needs libtorch to use two threads or more");
        var threads = new ContentionAwareThreads();
        var key = new ThreadChoiceKey("image", 16, 1);
        for (int i = 0; i < 4; i++) threads.Record(key, callers, i < 2 ? Full : One, 1, i < 2 ? 0.2 : 0.03, i < 2 ? 0.08 : 0.03, i < 2 ? 0.2 : 0.03);
        Assert.Equal(One, threads.Choose(key));
        using var seen = threads.Run("image", 16, 1, (_, _) => torch.tensor(CallerThreads.MaxThreads), Unexpected);
        Assert.Equal(1, seen.item<int>());
        Assert.Equal(callers, CallerThreads.MaxThreads);
        Assert.Throws<InvalidOperationException>(() => threads.Run<torch.Tensor>("image", 16, 1, (_, _) => throw new InvalidOperationException("inside"), Unexpected));
        Assert.Equal(callers, CallerThreads.MaxThreads);
    }

    [Fact]
    public void APinnedLayoutIsUsedAndNotRecorded()
    {
        Assert.True(CallerThreads.Available, $"caller thread control: {CallerThreads.Status}");
        int callers = CallerThreads.MaxThreads;
        var threads = new ContentionAwareThreads { Pinned = ThreadLayout.BatchParts };
        // A single image cannot be split: it runs on one thread.
        using var single = threads.Run("image", 16, 1, (_, _) => torch.tensor(CallerThreads.MaxThreads), Unexpected);
        Assert.Equal(1, single.item<int>());
        int merges = 0;
        using var parts = threads.Run("image", 16, 4, (start, count) => torch.full(count, CallerThreads.MaxThreads, dtype: torch.ScalarType.Int32), p =>
        {
            merges++;
            return torch.cat(p.ToArray());
        });
        Assert.Equal(callers > 1 ? 1 : 0, merges); // with one core every call is one part
        Assert.Equal([1, 1, 1, 1], parts.data<int>().ToArray());
        threads.Pinned = ThreadLayout.AllThreads;
        using var all = threads.Run("image", 16, 4, (_, _) => torch.tensor(CallerThreads.MaxThreads), Unexpected);
        Assert.Equal(callers, all.item<int>());
        Assert.Empty(threads.Choices());
        Assert.Equal(callers, CallerThreads.MaxThreads);
    }

    private static torch.Tensor Unexpected(IReadOnlyList<torch.Tensor> parts) => throw new InvalidOperationException("a call on one thread has no parts to merge");

    [Fact]
    public void FeaturesOnOneThreadEqualThoseOnAll()
    {
        Assert.True(CallerThreads.Available, $"caller thread control: {CallerThreads.Status}");
        var config = ModelRegistry.Get("openvision-vit-tiny-patch16-224");
        using var model = new OpenVisionModel(config);
        using var pixels = torch.randn([3, 3, 224, 224], generator: new torch.Generator(7));
        using var all = model.EncodeImage(pixels);
        torch.Tensor one;
        using (CallerThreads.LimitTo(1))
        {
            try
            {
                model.Threads.Enabled = false; // the count set above, not a choice
                one = model.EncodeImage(pixels);
            }
            finally
            {
                model.Threads.Enabled = true;
            }
        }
        using (one)
        {
            // Identical bits on the CPUs measured (libtorch and MKL split rows across threads there, not the sums within a
            // row). Where a library splits a sum, only its order changes: float32 round-off, far below this bound.
            float scale = all.abs().max().item<float>();
            Assert.True((one - all).abs().max().item<float>() <= 1e-5f * scale);
        }
    }
}
