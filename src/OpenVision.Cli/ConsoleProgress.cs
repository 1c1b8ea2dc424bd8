using OpenVision.Pipelines;

namespace OpenVision.Cli;

/// <summary>A one-line progress display on stderr, redrawn at most five times a second.</summary>
internal sealed class ConsoleProgress(string unit) : IProgress<ProgressReport>
{
    private DateTime lastDraw = DateTime.MinValue;
    private bool drawn;

    public void Report(ProgressReport value)
    {
        if ((DateTime.UtcNow - lastDraw).TotalMilliseconds < 200 && value.Done != value.Total) return;
        lastDraw = DateTime.UtcNow;
        string line = value.Format(unit);
        if (Console.IsErrorRedirected) Console.Error.WriteLine(line);
        else Console.Error.Write("\r" + line.PadRight(ConsoleWidth.For(100)));
        drawn = true;
    }

    public void Finish()
    {
        if (drawn && !Console.IsErrorRedirected) Console.Error.WriteLine();
        drawn = false;
    }
}
