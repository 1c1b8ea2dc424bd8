using OpenVision.IO;
using System.CommandLine;
using System.Text.Json;
using OpenVision.Lab.Benchmarks.Precision;
using OpenVision.Lab.Datasets;
using OpenVision.Lab.Demo;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench precision --model DIR [--data …]</c>: zero-shot top-1 agreement of bf16 and int8 with
/// float32 on real labelled images (default: the 10,000 Fashion-MNIST test images with the demo's prompts).</summary>
internal static class BenchPrecisionCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "A trained model (folder, checkpoint or hf-hub:); agreement on random weights says little", Required = true };
        var data = new Option<string?>("--data", "-d") { Description = "Labelled images in any format 'eval zeroshot' reads (default: the Fashion-MNIST test split with the demo's four templates)" };
        var classNames = new Option<string?>("--classnames") { Description = "Class names for --data: a file, imagenet or fashion-mnist" };
        var templates = new Option<string>("--templates") { Description = "Prompt templates for --data: clip, identity or a file", DefaultValueFactory = _ => "clip" };
        var json = new Option<string?>("--json") { Description = "Also write the rows to this JSON file" };
        var command = new Command("precision", "Zero-shot top-1 agreement of bf16 (TorchSharp) and int8 (ONNX Runtime) with float32 on real images")
            { model, data, classNames, templates, json };
        command.SetAction(r => CliErrors.Run(() =>
        {
            OutputFiles.Check("--json", r.GetValue(json));
            ILabeledImageSource source;
            ZeroShotOptions options;
            if (r.GetValue(data) is { } path)
            {
                source = EvalInputs.Labeled(path, r.GetValue(classNames), null, null);
                options = new ZeroShotOptions { Templates = EvalInputs.Templates(r.GetValue(templates)!) };
            }
            else
            {
                source = FashionMnistZeroShot.TestSource(FashionMnist.Locate());
                options = FashionMnistZeroShot.Options;
            }
            Console.WriteLine($"{source.Name}: {source.Count} images, {options.Templates.Count} templates, batch {options.BatchSize}; reference fp32 (TorchSharp)");
            var rows = PrecisionAgreement.Run(r.GetValue(model)!, source, options, new SyncProgress<string>(Console.WriteLine));
            if (r.GetValue(json) is { } output) AtomicFile.WriteAllText(output, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return command;
    }
}
