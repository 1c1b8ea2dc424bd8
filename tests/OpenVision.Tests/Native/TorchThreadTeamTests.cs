using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Tests.Native;

/// <summary>Loops on libtorch's OpenMP threads: present wherever the shim was built, every index once, on more than
/// one thread at a time, and a failing index reported after the others ran.</summary>
public class TorchThreadTeamTests
{
    [Fact]
    public void RunsWhereverTheShimWasBuilt()
    {
        // The build compiles the shim on Linux x64 with a C compiler (as here and in CI); the package carries it.
        bool shipped = File.Exists(Path.Combine(AppContext.BaseDirectory, TorchThreadTeam.ShimFileName));
        Assert.Equal(shipped, TorchThreadTeam.Available);
        Assert.True(shipped || !OperatingSystem.IsLinux(), $"{TorchThreadTeam.ShimFileName} was not built beside the tests");
    }

    [Fact]
    public void CallsEveryIndexOnceOnSeveralThreadsAtOnce()
    {
        Assert.True(torch.get_num_threads() >= 2, "the test needs libtorch to use two threads or more");
        var calls = new int[101];
        var threads = new HashSet<int>();
        using var secondStarted = new ManualResetEventSlim();
        bool waited = true;
        Assert.True(TorchThreadTeam.For(calls.Length, i =>
        {
            Interlocked.Increment(ref calls[i]);
            lock (threads) threads.Add(Environment.CurrentManagedThreadId);
            // Index 0 waits for index 1 to start: only a second thread can start it meanwhile.
            if (i == 0) waited = secondStarted.Wait(TimeSpan.FromSeconds(30));
            if (i == 1) secondStarted.Set();
        }));
        Assert.True(waited, "index 1 did not start while index 0 ran: the loop ran on one thread");
        Assert.All(calls, count => Assert.Equal(1, count));
        Assert.True(threads.Count >= 2);
        Assert.Contains(Environment.CurrentManagedThreadId, threads); // the caller is one of the team
    }

    [Fact]
    public void AFailingIndexIsRethrownAfterTheOthersRan()
    {
        var calls = new int[40];
        var error = Assert.Throws<InvalidDataException>(() => TorchThreadTeam.For(calls.Length, i =>
        {
            Interlocked.Increment(ref calls[i]);
            if (i == 7) throw new InvalidDataException("index 7 is bad");
        }));
        Assert.Equal("index 7 is bad", error.Message);
        Assert.All(calls, count => Assert.Equal(1, count));
        Assert.True(TorchThreadTeam.For(0, _ => throw new InvalidOperationException("never called")));
    }
}
