using System.Diagnostics;
using OpenVision.Lab.Benchmarks;

namespace OpenVision.Lab.Tests.Benchmarks;

/// <summary><c>bench --background-load</c>: real child processes that keep cores busy while they run and are gone once
/// disposed.</summary>
public class BackgroundLoadTests
{
    [Fact]
    public void LoopsBurnCpuUntilDisposed()
    {
        List<int> ids;
        using (var load = new BackgroundLoad(2))
        {
            Assert.Equal(2, load.Count);
            ids = Children();
            Assert.Equal(2, ids.Count);
            double before = ids.Sum(CpuSeconds);
            Thread.Sleep(1000);
            // Two busy loops on a 2-core machine shared with this test: well over half a core-second each second.
            Assert.True(ids.Sum(CpuSeconds) - before > 0.5, "the loops did not use the CPU");
        }
        Assert.All(ids, id => Assert.False(File.Exists($"/proc/{id}/stat"), $"process {id} still runs"));
        Assert.Equal(0, new BackgroundLoad(0).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackgroundLoad(-1));
    }

    // The /bin/sh children of this process.
    private static List<int> Children() => Directory.GetDirectories("/proc")
        .Select(Path.GetFileName).Where(name => name!.All(char.IsAsciiDigit)).Select(name => int.Parse(name!))
        .Where(id => Stat(id) is { } stat && stat[3] == Environment.ProcessId.ToString() && stat[1] == "(sh)").ToList();

    private static double CpuSeconds(int id) => Stat(id) is { } stat ? (long.Parse(stat[13]) + long.Parse(stat[14])) / 100.0 : 0;

    // /proc/PID/stat split into fields (the command name has no spaces here: "(sh)").
    private static string[]? Stat(int id)
    {
        try
        {
            return File.ReadAllText($"/proc/{id}/stat").Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }
}
