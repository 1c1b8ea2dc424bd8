using System.CommandLine;
using System.Text.Json;
using OpenVision.Vision;
using OpenVision.ZeroShot;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision classify --model M IMAGE… --labels "a dog" "a cat" [--templates FILE|clip] [--top K] [--json]</c>.</summary>
internal static class ClassifyCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var backend = new BackendArguments();
        var images = new Argument<string[]>("image") { Description = "Images to classify", Arity = ArgumentArity.OneOrMore };
        var labels = new Option<string[]>("--labels", "-l") { Description = "Class names", Required = true, AllowMultipleArgumentsPerToken = true };
        var templates = new Option<string?>("--templates") { Description = "Prompt templates with {} for the label: a file (one per line) or 'clip' for the 81 built-in ones" };
        var top = new Option<int>("--top", "-k") { Description = "How many classes to show per image", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("classify", "Zero-shot classify images against text labels") { images, labels, templates, top, json };
        args.AddTo(command);
        backend.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            using var encoder = backend.Load(r, args);
            return Run(encoder, r.GetValue(images)!, r.GetValue(labels)!, r.GetValue(templates), r.GetValue(top), r.GetValue(json));
        }));
        return command;
    }

    private const int BatchSize = 32;

    /// <summary>A problem with one input file rather than with the model or the request.</summary>
    internal static bool IsUnreadable(Exception e) =>
        e is ImageDecodeException or IOException or UnauthorizedAccessException or InvalidDataException;

    private static int Run(OpenVisionEncoder encoder, string[] images, string[] labels, string? templatesArg, int top, bool json)
    {
        if (top < 1) throw new ArgumentException("--top must be at least 1");
        IReadOnlyList<string>? templates = templatesArg switch
        {
            null => null,
            "clip" => PromptSets.ClipPaperTemplates,
            var file => PromptSets.ReadList(file),
        };
        using var classifier = encoder.CreateClassifier(labels, templates);
        // Like cat or ls: a file that cannot be read is one error line, the others are still classified, and the exit
        // code says that something failed. Images are decoded a batch at a time so memory stays bounded.
        var rows = new List<object>();
        int failed = 0;
        foreach (var chunk in images.Chunk(BatchSize))
        {
            var decoded = new List<(string Path, DecodedImage Image)>();
            foreach (var path in chunk)
            {
                try { decoded.Add((path, ImageDecoder.Decode(path))); }
                catch (Exception e) when (IsUnreadable(e))
                {
                    CliErrors.Fail(e is ImageDecodeException ? e.Message : $"{path}: {e.Message}", CliErrors.UserError);
                    failed++;
                }
            }
            if (decoded.Count == 0) continue;
            using var features = encoder.EncodeImages(decoded.Select(d => d.Image).ToList());
            var results = classifier.Top(features, top);
            for (int i = 0; i < decoded.Count; i++)
            {
                if (json) { rows.Add(new { image = decoded[i].Path, top = results[i].Select(s => new { label = s.Label, probability = s.Probability }).ToList() }); continue; }
                Console.WriteLine(TerminalText.Escape(decoded[i].Path));
                foreach (var score in results[i]) Console.WriteLine($"  {score.Probability,7:P2}  {TerminalText.Escape(score.Label)}");
            }
        }
        // Failed files are not in the JSON: its entries keep one shape, and each failure is its own line on stderr.
        if (json) Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
        return failed == 0 ? 0 : CliErrors.UserError;
    }
}
