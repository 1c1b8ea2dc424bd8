using System.CommandLine;
using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Native;
using OpenVision.Pipelines;
using OpenVision.Vision;
using TorchSharp;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision info --model M</c>: config, sizes, preprocessing, tokenizer and source.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var args = new ModelArguments();
        var command = new Command("info", "Show a model's config, parameter counts, preprocessing and tokenizer");
        args.AddTo(command, withWeights: false);
        command.SetAction(r => CliErrors.Run(() => Run(r.GetValue(args.Model)!, r.GetValue(args.ImageSize))));
        return command;
    }

    private static int Run(string reference, int? imageSize)
    {
        var (config, source) = ModelFactory.Resolve(reference, configOnly: true);
        var v = config.VisionCfg;
        var t = config.OptionalTextCfg;
        var p = config.Preprocess;
        int size = imageSize ?? v.ImageSize;
        Console.WriteLine($"model          {TerminalText.Escape(config.Name)}");
        Console.WriteLine($"config         {TerminalText.Escape(source.ConfigPath ?? "built in")}");
        Console.WriteLine($"weights        {TerminalText.Escape(source.WeightsPath ?? "(none: built-in config; use hf-hub:UCSC-VLAA/" + config.Name + " or a folder)")}");
        Console.WriteLine($"vision         ViT width {v.Width}, {v.Layers} blocks, {v.Heads} heads x {v.HeadWidth}, MLP {v.MlpWidth}, patch {v.PatchSize}, {size} px -> {size / v.PatchSize}x{size / v.PatchSize} grid + class token");
        Console.WriteLine($"               pool {v.PoolType.ToString().ToLowerInvariant()}, ln_pre {(v.NoLnPre ? "no" : "yes")}, ln_post {(v.FinalLnAfterPool ? "after pooling" : "before pooling")}, eps {v.NormKwargs.Eps:G}, GELU {v.ActKwargs?.Approximate ?? "exact"}");
        if (t is null) Console.WriteLine("text           none (vision-only: image embeddings and patch tokens; zero-shot and text embedding need a text tower)");
        else Console.WriteLine($"text           width {t.Width}, {t.Layers} blocks, {t.Heads} heads, MLP {t.MlpWidth}, context {t.ContextLength}, vocab {t.VocabSize}, pool {t.PoolType}, causal mask {(t.NoCausalMask ? "no" : "yes")}, GELU {t.ActKwargs?.Approximate ?? "exact"}");
        Console.WriteLine($"embed dim      {config.EmbedDim}");
        Console.WriteLine($"parameters     vision {ParameterCounter.Vision(config):N0}, text {ParameterCounter.Text(config):N0}, total {ParameterCounter.Total(config):N0}");
        Console.WriteLine($"preprocess     {p.ResizeMode} resize to {size}x{size}, {p.Interpolation}, mean [{string.Join(", ", p.Mean)}], std [{string.Join(", ", p.Std)}]");
        if (t is not null) Console.WriteLine($"tokenizer      {(t.HfTokenizerName == "bert-base-uncased" ? $"OpenVision WordPiece ([bos] ... [eos] [PAD]... [CLS]), {t.ContextLength} ids" : t.HfTokenizerName ?? "OpenAI BPE (not implemented)")}");
        Console.WriteLine($"MKL dispatch   {MklCpuDispatch.Status}");
        Console.WriteLine($"heap tuning    {HeapTuning.Status}");
        Console.WriteLine($"JPEG decoder   {ImageDecoder.JpegDecoderName}");
        Console.WriteLine($"decode threads {ImageBatchReader.DecodeThreads}");
        Console.WriteLine($"model threads  all of libtorch's ({torch.get_num_threads()}); one per image and batches in parts while other processes compete for the cores and that measures faster: {ContentionAwareThreads.Status}");
        Console.WriteLine($"fp32 blocks    {Float32Kernels.Status}");
        Console.WriteLine($"bf16 linear    {BFloat16Kernels.Status}");
        return 0;
    }
}
