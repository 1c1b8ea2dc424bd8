using System.CommandLine;
using System.Text.Json;
using OpenVision.Captioning;
using OpenVision.Training.Models;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision caption --model M IMAGE… [--max-tokens N] [--beam N] [--mask causal|prefix] [--json]</c>:
/// captions from an OpenVision 2 encoder and its caption decoder, or from a CLIPS model trained by <c>openvision train</c>
/// with its CLIPS decoder (<see cref="ClipsCaptioner"/>).</summary>
internal static class CaptionCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var images = new Argument<string[]>("images") { Description = "Image files", Arity = ArgumentArity.OneOrMore };
        var maxTokens = new Option<int>("--max-tokens") { Description = $"Most tokens per caption (1 to {CaptionOptions.MaxTokensLimit})", DefaultValueFactory = _ => 64 };
        var beam = new Option<int>("--beam") { Description = $"Beam width (1: greedy; at most {CaptionOptions.MaxBeamWidth})", DefaultValueFactory = _ => 1 };
        var mask = new Option<string>("--mask")
        {
            Description = "causal (over image and text, as OpenVision 2's training code) or prefix (image bidirectional, as the hub's PyTorch decoder)",
            DefaultValueFactory = _ => "causal",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per image (text, token ids, log-probability)" };
        var command = new Command("caption", "Caption images with an OpenVision 2 model's caption decoder") { args.Model, args.DType, images, maxTokens, beam, mask, json };
        command.SetAction(r => CliErrors.Run(() =>
        {
            // Before the model loads: CaptionOptions.Validate checks the same bounds for library callers.
            if (r.GetValue(maxTokens) is var tokens and (< 1 or > CaptionOptions.MaxTokensLimit))
                throw new ArgumentException($"--max-tokens {tokens} must be between 1 and {CaptionOptions.MaxTokensLimit} (the caption positions the decoder was trained on)");
            if (r.GetValue(beam) is var width and (< 1 or > CaptionOptions.MaxBeamWidth))
                throw new ArgumentException($"--beam {width} must be between 1 and {CaptionOptions.MaxBeamWidth}");
            var options = new CaptionOptions
            {
                MaxTokens = r.GetValue(maxTokens),
                BeamWidth = r.GetValue(beam),
                Mask = r.GetValue(mask) switch
                {
                    "causal" => CaptionMask.Causal,
                    "prefix" => CaptionMask.Prefix,
                    var other => throw new ArgumentException($"--mask must be causal or prefix, not '{other}'"),
                },
            };
            var loadOptions = new ModelLoadOptions { DType = ModelArguments.ParseDType(r.GetValue(args.DType)!) };
            return Run(r.GetValue(args.Model)!, r.GetValue(images)!, options.Validate(), loadOptions, r.GetValue(json));
        }));
        return command;
    }

    private static int Run(string model, string[] images, CaptionOptions options, ModelLoadOptions loadOptions, bool asJson)
    {
        // A CLIPS run's folder carries its decoder instead of OpenVision 2's; it predicts all positions in one pass.
        if (ClipsCaptioner.HasDecoder(model) && !File.Exists(Path.Combine(model, CaptionDecoderConfig.FileName)))
        {
            if (options.BeamWidth != 1) throw new ArgumentException($"{model}: --beam needs an OpenVision 2 decoder; a CLIPS decoder predicts every position in one pass");
            using var clips = ClipsCaptioner.Load(model);
            return Print(images, image => clips.CaptionFiles([image], options.MaxTokens)[0], asJson);
        }
        using var captioner = ImageCaptioner.Load(model, loadOptions);
        return Print(images, image => captioner.CaptionFiles([image], options)[0], asJson);
    }

    private static int Print(string[] images, Func<string, Caption> captionOf, bool asJson)
    {
        // One unreadable image is one error line; the rest are still captioned and the exit code reports the failure.
        int failed = 0;
        foreach (var image in images)
        {
            Caption caption;
            try { caption = captionOf(image); }
            catch (Exception e) when (ClassifyCommand.IsUnreadable(e))
            {
                CliErrors.Fail(e is Vision.ImageDecodeException ? e.Message : $"{image}: {e.Message}", CliErrors.UserError);
                failed++;
                continue;
            }
            Console.WriteLine(asJson
                ? JsonSerializer.Serialize(new { image, text = caption.Text, token_ids = caption.TokenIds, log_probability = caption.LogProbability })
                : $"{TerminalText.Escape(image)}\t{TerminalText.Escape(caption.Text)}");
        }
        return failed == 0 ? 0 : CliErrors.UserError;
    }
}
