using System.CommandLine;
using OpenVision.Cli.Commands;

var root = new RootCommand("OpenVision.NET: load, run, evaluate and train OpenVision vision encoders")
{
    ModelsCommand.Create(),
    InfoCommand.Create(),
    ClassifyCommand.Create(),
    EmbedCommand.Create(),
    TokenizeCommand.Create(),
    PreprocessCommand.Create(),
    EvalCommand.Create(),
};
return root.Parse(args).Invoke();
