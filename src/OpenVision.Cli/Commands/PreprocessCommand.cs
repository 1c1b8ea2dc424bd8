using System.CommandLine;
using OpenVision.Checkpoints;
using OpenVision.IO;
using OpenVision.Vision;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision preprocess --model M [--size S] IMAGE… --output PIXELS.npy</c>: what the model sees.</summary>
internal static class PreprocessCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var images = new Argument<string[]>("image") { Description = "Image files", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "Where to write [N, 3, S, S] float32 pixels (.npy)", Required = true };
        var command = new Command("preprocess", "Decode, resize and normalize images exactly as the reference does") { images, output };
        args.AddTo(command, withWeights: false);
        command.SetAction(r => CliErrors.Run(() => Run(r.GetValue(args.Model)!, r.GetValue(args.ImageSize), r.GetValue(images)!, r.GetValue(output)!)));
        return command;
    }

    private static int Run(string reference, int? size, string[] images, string output)
    {
        var (config, _) = ModelFactory.Resolve(reference, configOnly: true);
        var transform = new ImageTransform(OpenVisionEncoder.CreateTransformOptions(config, size ?? config.VisionCfg.ImageSize));
        int length = transform.OutputLength, s = transform.Options.ImageSize;
        var bytes = new byte[(long)images.Length * length * sizeof(float)];
        var row = new float[length];
        for (int i = 0; i < images.Length; i++)
        {
            transform.ToChw(ImageDecoder.Decode(images[i]), row);
            Buffer.BlockCopy(row, 0, bytes, i * length * sizeof(float), length * sizeof(float));
        }
        NpyFile.Write(output, new TensorData(TensorDType.F32, [images.Length, 3, s, s], bytes));
        Console.WriteLine($"wrote {output}: {images.Length} x 3 x {s} x {s} float32");
        return 0;
    }
}
