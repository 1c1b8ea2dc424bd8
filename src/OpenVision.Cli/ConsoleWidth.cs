namespace OpenVision.Cli;

/// <summary>How wide a redrawn progress line may be.</summary>
internal static class ConsoleWidth
{
    /// <summary>The terminal's width minus one, at most <paramref name="max"/>; <paramref name="max"/> when the width is
    /// unknown (a pseudo-terminal without a size, e.g. under mpirun, reports 0; no console at all throws).</summary>
    public static int For(int max)
    {
        try
        {
            int width = Console.WindowWidth;
            return width > 1 ? Math.Min(width - 1, max) : max;
        }
        catch (IOException)
        {
            return max;
        }
    }
}
