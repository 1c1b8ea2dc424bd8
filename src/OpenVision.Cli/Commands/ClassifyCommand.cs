using System.CommandLine;
using System.Text.Json;
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
        using var features = encoder.EncodeImageFiles(images);
        var results = classifier.Top(features, top);
        if (json)
        {
            var rows = images.Select((path, i) => new { image = path, top = results[i].Select(s => new { label = s.Label, probability = s.Probability }) });
            Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        for (int i = 0; i < images.Length; i++)
        {
            Console.WriteLine(TerminalText.Escape(images[i]));
            foreach (var score in results[i]) Console.WriteLine($"  {score.Probability,7:P2}  {TerminalText.Escape(score.Label)}");
        }
        return 0;
    }
}
