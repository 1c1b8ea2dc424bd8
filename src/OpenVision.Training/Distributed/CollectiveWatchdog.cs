using System.Diagnostics;

namespace OpenVision.Training.Distributed;

/// <summary>Aborts the job when one collective takes longer than a timeout. A dead peer is normally noticed by
/// mpirun, which ends the job; a peer that hangs (stopped process, lost network) is not, and without this every
/// other rank would wait inside MPI forever.</summary>
internal sealed class CollectiveWatchdog : IDisposable
{
    private readonly TimeSpan timeout;
    private readonly Action<string, TimeSpan> onTimeout;
    private readonly Thread thread;
    private readonly ManualResetEventSlim stop = new();
    private long startedTicks;            // Stopwatch ticks when the current collective started; 0 = none
    private string current = "";
    private int fired;

    public CollectiveWatchdog(TimeSpan timeout, Action<string, TimeSpan> onTimeout)
    {
        this.timeout = timeout;
        this.onTimeout = onTimeout;
        thread = new Thread(Watch) { IsBackground = true, Name = "collective watchdog" };
        thread.Start();
    }

    public void Enter(string operation)
    {
        current = operation;
        Volatile.Write(ref startedTicks, Stopwatch.GetTimestamp());
    }

    public void Exit() => Volatile.Write(ref startedTicks, 0);

    private void Watch()
    {
        var interval = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 10, 1000));
        while (!stop.Wait(interval))
        {
            long started = Volatile.Read(ref startedTicks);
            if (started == 0) continue;
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > timeout && Interlocked.Exchange(ref fired, 1) == 0) onTimeout(current, elapsed);
        }
    }

    public void Dispose()
    {
        stop.Set();
        thread.Join();
        stop.Dispose();
    }
}
