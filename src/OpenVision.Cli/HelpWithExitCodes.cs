using System.CommandLine;
using System.CommandLine.Invocation;

namespace OpenVision.Cli;

/// <summary>The standard help, followed on the top-level page by the exit codes (System.CommandLine has no epilog).</summary>
internal sealed class HelpWithExitCodes(CommandLineAction inner, Command root) : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        int code = inner is SynchronousCommandLineAction synchronous ? synchronous.Invoke(parseResult) : 0;
        if (parseResult.CommandResult.Command == root)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(CliErrors.ExitCodesHelp);
            output.WriteLine();
        }
        return code;
    }
}
