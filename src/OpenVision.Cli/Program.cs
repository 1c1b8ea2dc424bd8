using System.CommandLine;
using OpenVision;
using OpenVision.Cli.Commands;

// The CLI is the host: it opts into the process-wide tuning (MKL vendor shim, heap settings) before any tensor work.
OpenVisionRuntime.Configure();

var root = new RootCommand("OpenVision.NET: load, run, evaluate and train OpenVision vision encoders")
{
    DemoCommand.Create(),
    TrainCommand.Create(),
    ModelsCommand.Create(),
    InfoCommand.Create(),
    ClassifyCommand.Create(),
    EmbedCommand.Create(),
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
return root.Parse(args).Invoke();
