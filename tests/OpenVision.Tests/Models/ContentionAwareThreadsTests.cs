using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Tests.Models;

/// <summary>The adaptive thread count: its decisions on given timings (quiet calls never lead to a trial; consecutive
/// contended ones do; a winning trial switches, a losing one backs off; freed cores lead back), and on a real model that
/// the chosen count is what libtorch's regions see during the call, the caller's setting is restored after it, and the
/// features do not change.</summary>
public class ContentionAwareThreadsTests
{
    private static readonly ThreadChoiceKey Key = new("image", 224, 1);
    private const int All = 2;

    // One call of the given thread count taking `perImage` seconds, of which the calling thread got `cpuShare` in CPU time.
    private static void Call(ContentionAwareThreads threads, int used, double seconds, double cpuShare) =>
        threads.Record(Key, All, used, batch: 1, wallSeconds: seconds, cpuSeconds: cpuShare * seconds);

    // Runs calls the way Run would: the chosen count, timed by `secondsFor(threads)` with the CPU share `cpuShare`.
    private static List<int> Drive(ContentionAwareThreads threads, int calls, Func<int, double> secondsFor, double cpuShare)
    {
        var used = new List<int>();
        for (int i = 0; i < calls; i++)
        {
            int count = threads.Choose(Key, All);
            used.Add(count);
            Call(threads, count, secondsFor(count), cpuShare);
        }
        return used;
    }

    [Fact]
    public void QuietCallsNeverTryOneThread()
    {
        var threads = new ContentionAwareThreads();
        var used = Drive(threads, 1000, count => count == 1 ? 0.010 : 0.020, cpuShare: 1.0); // one thread would even be faster
        Assert.All(used, count => Assert.Equal(All, count));
        var choice = Assert.Single(threads.Choices());
        Assert.Equal((0L, 0L, 1000L), (choice.Trials, choice.ContendedCalls, choice.Calls));
    }

    [Fact]
    public void ALoneSlowCallLeadsToNoTrial()
    {
        var threads = new ContentionAwareThreads();
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(All, threads.Choose(Key, All));
            Call(threads, All, 0.020, cpuShare: i % 5 == 0 ? 0.4 : 1.0);
        }
        Assert.Equal(0, Assert.Single(threads.Choices()).Trials);
    }

    [Fact]
    public void ContentionLeadsToOneThreadWhenItMeasuresFaster()
    {
        var threads = new ContentionAwareThreads();
        var used = Drive(threads, 40, count => count == 1 ? 0.030 : 0.200, cpuShare: 0.4);
        // Two contended calls on all threads, a trial call on one thread that wins; from there on one thread, with
        // trials of all threads (two calls each) that lose and so come after 2, 4, 8, 16 calls.
        int[] expected = [All, All, 1, 1, 1, All, All, 1, 1, 1, 1, All, All, .. Enumerable.Repeat(1, 8), All, All, .. Enumerable.Repeat(1, 16), All];
        Assert.Equal(expected, used);
        var choice = Assert.Single(threads.Choices());
        Assert.Equal((1, 4L, 1L), (choice.Threads, choice.Trials, choice.Switches));
        Assert.Equal(0.030, choice.SecondsPerImageOneThread, 12);
    }

    [Fact]
    public void LosingTrialsBackOffToEverySixtyFourContendedCalls()
    {
        var threads = new ContentionAwareThreads();
        var used = Drive(threads, 400, count => count == 1 ? 0.100 : 0.050, cpuShare: 0.4);
        var trialCalls = used.Select((count, i) => (count, i)).Where(c => c.count == 1).Select(c => c.i).ToList();
        var gaps = trialCalls.Zip(trialCalls.Skip(1), (a, b) => b - a - 1).ToList();
        Assert.Equal(2, trialCalls[0]);
        Assert.Equal([4, 8, 16, 32, 64, 64, 64], gaps.Take(7));
        Assert.Equal(All, Assert.Single(threads.Choices()).Threads);
    }

    [Fact]
    public void FreedCoresLeadBackToAllThreads()
    {
        var threads = new ContentionAwareThreads();
        // Under load: one thread wins, a trial of all threads loses; 2 of the 4 calls before the next are made.
        Drive(threads, 9, count => count == 1 ? 0.030 : 0.200, cpuShare: 0.4);
        Assert.Equal(1, threads.Choose(Key, All));
        // The other work stops: one thread now gets its whole core, and all threads are faster again.
        var used = Drive(threads, 10, count => count == 1 ? 0.030 : 0.015, cpuShare: 1.0);
        // Two calls with their whole core start a trial; its second call decides.
        Assert.Equal([1, 1, All, All, All, All, All, All, All, All], used);
        Assert.Equal(2, Assert.Single(threads.Choices()).Switches);
    }

    [Fact]
    public void ATrialsFirstCallDoesNotDecide()
    {
        // Under load, the first call on all threads after calls on one thread is fast (the sleeping worker's scheduler
        // credit), the ones after it slow: judged by its first call, every trial of all threads would win.
        var threads = new ContentionAwareThreads();
        int previous = 0;
        var used = Drive(threads, 300, count =>
        {
            double seconds = count == 1 ? 0.050 : previous == 1 ? 0.020 : 0.200;
            previous = count;
            return seconds;
        }, cpuShare: 0.4);
        var choice = Assert.Single(threads.Choices());
        Assert.Equal((1, 1L), (choice.Threads, choice.Switches));
        Assert.True(used.Count(count => count == All) < 20, $"{used.Count(count => count == All)} of 300 calls on all threads");
    }

    [Fact]
    public void ChoicesAreKeptPerBatchSizeBucketAndTask()
    {
        var threads = new ContentionAwareThreads();
        var other = new ThreadChoiceKey("image", 224, 32);
        Drive(threads, 4, count => count == 1 ? 0.030 : 0.200, cpuShare: 0.4);
        Assert.Equal(1, threads.Choose(Key, All));
        Assert.Equal(All, threads.Choose(other, All));
        Assert.Equal(All, threads.Choose(new ThreadChoiceKey("text", 0, 1), All));
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
        for (int i = 0; i < 4; i++) threads.Record(key, callers, i < 2 ? callers : 1, 1, i < 2 ? 0.2 : 0.03, i < 2 ? 0.08 : 0.03);
        Assert.Equal(1, threads.Choose(key, callers));
        int seen = threads.Run("image", 16, 1, () => CallerThreads.MaxThreads);
        Assert.Equal(1, seen);
        Assert.Equal(callers, CallerThreads.MaxThreads);
        Assert.Throws<InvalidOperationException>(() => threads.Run<int>("image", 16, 1, () => throw new InvalidOperationException("inside")));
        Assert.Equal(callers, CallerThreads.MaxThreads);
    }

    [Fact]
    public void FeaturesOnOneThreadEqualThoseOnAll()
    {
        Assert.True(CallerThreads.Available, $"caller thread control: {CallerThreads.Status}");
        var config = ModelRegistry.Get("openvision-vit-tiny-patch16-224");
        using var model = new OpenVisionModel(config);
        using var pixels = torch.randn([3, 3, 224, 224], generator: new torch.Generator(7));
        int callers = CallerThreads.MaxThreads;
        using var all = model.EncodeImage(pixels);
        CallerThreads.SetThreads(1);
        torch.Tensor one;
        try
        {
            model.Threads.Enabled = false; // the count set above, not a choice
            one = model.EncodeImage(pixels);
        }
        finally
        {
            CallerThreads.SetThreads(callers);
            model.Threads.Enabled = true;
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
