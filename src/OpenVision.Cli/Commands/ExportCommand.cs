using System.CommandLine;
using OpenVision.Onnx;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision export onnx --model M --output DIR [--fp16] [--int8] [--dynamic-resolution] [--tokens] [--measure-speed]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var output = new Option<string>("--output", "-o") { Description = "Folder for the graphs, tokenizer, config and manifest.json", Required = true };
        var fp16 = new Option<bool>("--fp16") { Description = "Also write float16 graphs (vision.fp16.onnx, text.fp16.onnx)" };
        var int8 = new Option<bool>("--int8") { Description = "Also write dynamically quantised int8 graphs (vision.int8.onnx, text.int8.onnx)" };
        var dynamic = new Option<bool>("--dynamic-resolution") { Description = "Vision graph accepts any square size (sin-cos table computed in the graph)" };
        var tokens = new Option<bool>("--tokens") { Description = "Vision graph also outputs the last block's patch tokens (image_tokens)" };
        var speed = new Option<bool>("--measure-speed") { Description = "Time each precision's vision graph (batch 8) and record images/s in the manifest" };
        var standard = new Option<bool>("--standard-ops") { Description = "Only standard ONNX operators, for runtimes other than ONNX Runtime " +
            "(by default float32 attention is ONNX Runtime's fused com.microsoft Attention)" };
        var onnx = new Command("onnx", "Export both towers to ONNX, validated with ONNX Runtime against the TorchSharp model")
            { output, fp16, int8, dynamic, tokens, speed, standard };
        onnx.Add(args.Model);
        onnx.Add(args.RandomInit);
        onnx.Add(args.ImageSize);
        onnx.SetAction(r => CliErrors.Run(() =>
        {
            var (model, source) = ModelFactory.Load(r.GetValue(args.Model)!, new ModelLoadOptions { RandomInit = r.GetValue(args.RandomInit) });
            using (model)
            {
                var manifest = OnnxExporter.Export(model, r.GetValue(output)!, new OnnxExportOptions
                {
                    Float16 = r.GetValue(fp16), Int8 = r.GetValue(int8), DynamicResolution = r.GetValue(dynamic), ImageTokens = r.GetValue(tokens),
                    ImageSize = r.GetValue(args.ImageSize), MeasureSpeed = r.GetValue(speed), StandardOpsOnly = r.GetValue(standard),
                    Progress = new Progress<string>(line => Console.Error.WriteLine(line)),
                });
                Print(manifest, source.Reference, r.GetValue(output)!);
            }
            return 0;
        }));
        return new Command("export", "Export a model to another format") { onnx };
    }

    private static void Print(OnnxManifest manifest, string reference, string folder)
    {
        Console.WriteLine($"exported {reference} ({manifest.Model}) to {folder}: opset {manifest.Opset}, {manifest.Preprocess.ImageSize} px{(manifest.DynamicResolution ? " (any size)" : "")}");
        Console.WriteLine($"{"precision",-9} {"MiB",8} {"image err",10} {"text err",10} {"bound",7} {"top-1 agree",11}");
        foreach (var v in manifest.Validation)
        {
            var files = manifest.FilesFor(v.Precision);
            Console.WriteLine($"{Name(v.Precision),-9} {files.Bytes / 1048576.0,8:F1} {v.ImageRelativeError,10:0.00e+00} {v.TextRelativeError,10:0.00e+00} {v.Bound,7:0e+00} {(v.ZeroShotTop1Agreement is { } a ? a.ToString("P1") : "-"),11}");
        }
        foreach (var s in manifest.Speed) Console.WriteLine($"{Name(s.Precision),-9} {s.ImagesPerSecond,8:F1} images/s (vision, batch {s.BatchSize}, this machine)");
    }

    private static string Name(OnnxPrecision precision) => precision.ToString().ToLowerInvariant();
}
