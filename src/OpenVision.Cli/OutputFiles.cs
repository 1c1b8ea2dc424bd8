using OpenVision.IO;

namespace OpenVision.Cli;

/// <summary>Checks on output files given as options, made before a run whose result they would hold: a run that takes
/// minutes should not end by failing to write it.</summary>
internal static class OutputFiles
{
    /// <summary>Throws when <paramref name="path"/> (given with <paramref name="option"/>; null: not given) could not be
    /// written: its folder is missing or it is a folder.</summary>
    public static void Check(string option, string? path)
    {
        if (path is not null && AtomicFile.OutputProblem(path) is { } problem) throw new ArgumentException($"{option} {path}: {problem}");
    }
}
