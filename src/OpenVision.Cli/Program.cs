using System.CommandLine;
using OpenVision.Cli.Commands;

var root = new RootCommand("OpenVision.NET: load, run, evaluate and train OpenVision vision encoders")
{
    DemoCommand.Create(),
    TrainCommand.Create(),
    ModelsCommand.Create(),
    InfoCommand.Create(),
    ClassifyCommand.Create(),
    EmbedCommand.Create(),
    CaptionCommand.Create(),
    EmbedMergeCommand.Create(),
    TokenizeCommand.Create(),
    PreprocessCommand.Create(),
    EvalCommand.Create(),
    BenchCommand.Create(),
    ExportCommand.Create(),
    ServeCommand.Create(),
};
return root.Parse(args).Invoke();
