using System.Diagnostics;

namespace OpenVision.Lab.Benchmarks;

/// <summary>Busy-looping child processes that compete for the cores while a benchmark runs, as other work on a shared
/// machine would (<c>openvision bench --background-load N</c>). Each is a POSIX shell loop that stops on its own once
/// this process is gone, so a benchmark killed mid-run leaves nothing spinning.</summary>
public sealed class BackgroundLoad : IDisposable
{
    private readonly List<Process> processes = [];

    /// <summary>Starts <paramref name="count"/> loops (Linux and other POSIX systems with /bin/sh).</summary>
    public BackgroundLoad(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > 0 && !File.Exists("/bin/sh")) throw new PlatformNotSupportedException("--background-load needs /bin/sh");
        // The inner loop keeps a core busy in the shell itself; every ~50 ms the outer one checks that we still exist.
        string script = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; done";
        try
        {
            for (int i = 0; i < count; i++)
            {
                var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = false };
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(script);
                processes.Add(Process.Start(start) ?? throw new InvalidOperationException("/bin/sh did not start"));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>How many loops run.</summary>
    public int Count => processes.Count;

    /// <summary>Stops the loops.</summary>
    public void Dispose()
    {
        foreach (var process in processes)
        {
            try
            {
                if (!process.HasExited) process.Kill();
                process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            process.Dispose();
        }
        processes.Clear();
    }
}
