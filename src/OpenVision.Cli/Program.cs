using System.CommandLine;
using System.CommandLine.Help;
using OpenVision;
using OpenVision.Cli;
using OpenVision.Cli.Commands;

// The CLI is the host: it opts into the process-wide tuning (MKL vendor shim, heap settings) before any tensor work.
OpenVisionRuntime.Configure();

// A plain command named "openvision" as the root (RootCommand would take the assembly's name for help and usage).
var verbose = new Option<bool>("--verbose") { Description = "On an error, also print the stack trace", Recursive = true };
var root = new Command("openvision", "OpenVision.NET: load, run, evaluate and train OpenVision vision encoders")
{
    new HelpOption(),
    new VersionOption(),
    verbose,
    DemoCommand.Create(),
    TrainCommand.Create(),
    ModelsCommand.Create(),
    InfoCommand.Create(),
    ClassifyCommand.Create(),
    EmbedCommand.Create(),
    CaptionCommand.Create(),
    EmbedMergeCommand.Create(),
    IndexCommand.Create(),
    SearchCommand.Create(),
    TokenizeCommand.Create(),
    PreprocessCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
    ExportCommand.Create(),
    ServeCommand.Create(),
};
var help = root.Options.OfType<HelpOption>().Single();
help.Action = new HelpWithExitCodes(help.Action!, root);

var parse = root.Parse(args);
CliErrors.Verbose = parse.GetValue(verbose);
if (parse.Errors.Count > 0 && parse.Action is not HelpWithExitCodes) return CliErrors.ParseFailure(parse);
return CliErrors.Run(() => parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
