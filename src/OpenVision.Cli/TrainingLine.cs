using OpenVision.Training;

namespace OpenVision.Cli;

/// <summary>The live training line: step, stage, resolution, samples/s, ETA and losses (the caption-only objective has
/// no contrastive loss and no temperature, so its line shows only the caption loss).</summary>
internal sealed class TrainingLine(bool captionOnly = false) : IProgress<TrainingProgress>
{
    private DateTime last = DateTime.MinValue;
    private bool open;

    public void Report(TrainingProgress p)
    {
        if ((DateTime.UtcNow - last).TotalMilliseconds < 500 && p.Last.Step != p.TotalSteps) return;
        last = DateTime.UtcNow;
        var m = p.Last;
        string line = $"step {m.Step}/{p.TotalSteps} stage {m.Stage + 1} {m.ImageSize}px {m.SamplesPerSecond:F0} samples/s " +
                      $"ETA {(int)(p.EtaSeconds / 60):D2}:{(int)(p.EtaSeconds % 60):D2} loss {m.Loss:F3} " +
                      (captionOnly ? $"(cap {m.Caption:F3}) lr {m.Lr:E2}" : $"(clip {m.Contrastive:F3}, cap {m.Caption:F3}) lr {m.Lr:E2} T {m.Temperature:F1}");
        if (Console.IsOutputRedirected) Console.WriteLine(line);
        else
        {
            Console.Write("\r" + line.PadRight(ConsoleWidth.For(140)));
            open = true;
        }
    }

    /// <summary>Ends the redrawn line, if one is drawn, so that other output starts on a line of its own.</summary>
    public void Finish()
    {
        if (open) Console.WriteLine();
        open = false;
    }
}
