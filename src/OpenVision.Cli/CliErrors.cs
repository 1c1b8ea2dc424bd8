using System.CommandLine;
using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.Text;
using OpenVision.Vision;

namespace OpenVision.Cli;

/// <summary>Runs a command body and turns failures into one line on stderr, <c>openvision: error: …</c>, and an exit
/// code: 1 the input or request is wrong, 2 a checkpoint is incompatible or corrupt, 3 an unexpected internal error,
/// 130 interrupted (SIGINT or SIGTERM). The stack trace is printed only with <c>--verbose</c>.</summary>
internal static class CliErrors
{
    public const int UserError = 1, IncompatibleCheckpoint = 2, InternalError = 3, Interrupted = 130;

    /// <summary>The exit codes, as <c>--help</c> lists them.</summary>
    public const string ExitCodes = "Exit codes: 0 success; 1 bad input or arguments; 2 incompatible or corrupt checkpoint; 3 internal error (a bug: rerun with --verbose and report the trace); 130 interrupted (SIGINT/SIGTERM).";

    /// <summary>The epilog of the top-level help.</summary>
    public const string ExitCodesHelp = ExitCodes + "\nErrors are one line on stderr; --verbose adds the stack trace. Limits on inputs: docs/cli.md.";

    /// <summary>Set from the global <c>--verbose</c> option before any command runs.</summary>
    public static bool Verbose { get; set; }

    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>Prints the one line for <paramref name="e"/> (and the trace with --verbose); returns the exit code.</summary>
    public static int Report(Exception e)
    {
        var (message, code) = Classify(e);
        int result = Fail(message, code);
        if (Verbose) Console.Error.WriteLine(e);
        return result;
    }

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"openvision: error: {TerminalText.Escape(OneLine(message))}");
        return code;
    }

    /// <summary>Parse errors in one line, with where to find the usage.</summary>
    public static int ParseFailure(ParseResult parse)
    {
        var names = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult) names.Insert(0, c.Command.Name);
        string errors = string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')).Distinct());
        return Fail($"{errors} (see '{string.Join(' ', names)} --help')", UserError);
    }

    private static (string Message, int Code) Classify(Exception e) => e switch
    {
        CheckpointFormatException => (e.Message, IncompatibleCheckpoint),
        OperationCanceledException => ("interrupted", Interrupted),
        ConfigException or ImageDecodeException or VocabularyFormatException or ArgumentException or InvalidOperationException
            or IOException or UnauthorizedAccessException or NotSupportedException or FormatException or InvalidDataException
            or System.Text.Json.JsonException or KeyNotFoundException or IO.NpyFormatException
            // The hub refused, could not be reached, or sent data that did not verify: the environment, not a bug.
            or Hub.HubException
            or Search.IndexFormatException or Search.IndexModelMismatchException or Search.USearchIndexException => (e.Message, UserError),
        _ => ($"unexpected {e.GetType().Name}: {e.Message} (run with --verbose for the stack trace)", InternalError),
    };

    // Some messages carry the lines of a nested error; the contract is one line (what control characters remain,
    // e.g. an ESC in a file name, TerminalText escapes).
    private static string OneLine(string message) => string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
}
