using System.Runtime.InteropServices;
using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Tests.Native;

/// <summary>A limit on the calling thread's threads holds for MKL too, also on a thread to which libtorch gave an MKL
/// count of its own (what <c>torch.set_num_threads</c> leaves on every thread it initializes afterwards), and disposing
/// it restores both counts.</summary>
public class CallerThreadsTests
{
    [Fact]
    public void ALimitHoldsForMklOnAThreadWithItsOwnMklCount()
    {
        Assert.True(CallerThreads.Available, $"caller thread control: {CallerThreads.Status}");
        var seen = new List<(string When, int OpenMp, int Mkl)>();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                // Same count as now, so nothing else changes; libtorch sets MKL's count for this thread with it.
                torch.set_num_threads(torch.get_num_threads());
                seen.Add(("before", CallerThreads.MaxThreads, CallerThreads.MklMaxThreads));
                using (CallerThreads.LimitTo(1)) seen.Add(("limited", CallerThreads.MaxThreads, CallerThreads.MklMaxThreads));
                seen.Add(("after", CallerThreads.MaxThreads, CallerThreads.MklMaxThreads));
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        Assert.Null(failure);
        int all = seen[0].OpenMp;
        Assert.True(all >= 2, "the test needs libtorch to use two threads or more");
        // TorchSharp's x86-64 libtorch carries MKL; elsewhere there is no MKL count to limit.
        int mkl = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? all : seen[0].Mkl;
        Assert.Equal([("before", all, mkl), ("limited", 1, mkl < 0 ? mkl : 1), ("after", all, mkl)], seen);
    }

    [Fact]
    public void ALimitBelowOneIsRefused() => Assert.Throws<ArgumentOutOfRangeException>(() => CallerThreads.LimitTo(0));
}
