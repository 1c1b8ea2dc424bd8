using System.CommandLine;
using OpenVision.Onnx;
using OpenVision.Onnx.Selection;

namespace OpenVision.Cli.Commands;

/// <summary><c>--backend torch|onnx</c> and the ONNX settings, for the commands that run a model for inference.</summary>
internal sealed class BackendArguments
{
    public Option<string> Backend { get; } = new("--backend")
    {
        Description = "torch (TorchSharp), onnx (ONNX Runtime; --model may be an 'export onnx' folder, anything else is exported once into a cache) " +
            "or fastest (both, each batch size on whichever was faster on this machine: measured on first use, cached in ~/.cache/openvision)",
        DefaultValueFactory = _ => "torch",
    };

    public Option<string> Precision { get; } = new("--onnx-precision") { Description = "fp32, fp16 or int8 graphs (onnx backend)", DefaultValueFactory = _ => "fp32" };

    public Option<string> Speed { get; } = new("--precision")
    {
        Description = "exact (float32 on --backend, the default) or fast: the fastest on this machine of fp32/bf16 TorchSharp and fp32/int8 ONNX Runtime, " +
            "all within 1 % zero-shot agreement of fp32 on the demo model (measured on first use, cached; prints what it picked; docs/speed.md)",
        DefaultValueFactory = _ => "exact",
    };

    public Option<int> Threads { get; } = new("--threads") { Description = "ONNX Runtime intra-op threads (0: one per core)" };

    public Option<bool> NoSpin { get; } = new("--no-spin") { Description = "ONNX Runtime threads sleep instead of spinning when idle (better on shared, busy machines)" };

    public void AddTo(Command command)
    {
        command.Add(Backend);
        command.Add(Precision);
        command.Add(Speed);
        command.Add(Threads);
        command.Add(NoSpin);
    }

    public OpenVisionEncoder Load(ParseResult result, ModelArguments model)
    {
        switch (result.GetValue(Speed)!.ToLowerInvariant())
        {
            case "exact":
                break;
            case "fast":
                if (result.GetValue(Backend)!.ToLowerInvariant() != "torch" || ModelArguments.ParseDType(result.GetValue(model.DType)!) != TorchSharp.torch.ScalarType.Float32
                    || ParsePrecision(result.GetValue(Precision)!) != OnnxPrecision.Float32)
                    throw new ArgumentException("--precision fast picks the backend and precision itself: leave out --backend, --dtype and --onnx-precision");
                var fast = FastPrecision.LoadEncoder(result.GetValue(model.Model)!, new ModelLoadOptions { RandomInit = result.GetValue(model.RandomInit) },
                    result.GetValue(model.ImageSize), new OnnxRuntimeOptions { IntraOpThreads = result.GetValue(Threads), AllowSpinning = !result.GetValue(NoSpin) },
                    progress: new Progress<string>(line => Console.Error.WriteLine(line)));
                Console.Error.WriteLine(fast.Describe());
                return fast.Encoder;
            case var other:
                throw new ArgumentException($"--precision must be exact or fast, not '{other}'");
        }
        switch (result.GetValue(Backend)!.ToLowerInvariant())
        {
            case "torch":
                return model.LoadEncoder(result);
            case "onnx":
                if (ModelArguments.ParseDType(result.GetValue(model.DType)!) != TorchSharp.torch.ScalarType.Float32)
                    throw new ArgumentException($"--dtype {result.GetValue(model.DType)} needs --backend torch: the onnx backend runs fp32, fp16 or int8 graphs (--onnx-precision)");
                var runtime = new OnnxRuntimeOptions { Precision = ParsePrecision(result.GetValue(Precision)!), IntraOpThreads = result.GetValue(Threads), AllowSpinning = !result.GetValue(NoSpin) };
                return OnnxExportCache.Open(result.GetValue(model.Model)!, new ModelLoadOptions { RandomInit = result.GetValue(model.RandomInit) },
                    result.GetValue(model.ImageSize), runtime, new Progress<string>(line => Console.Error.WriteLine(line)));
            case "fastest":
                if (ModelArguments.ParseDType(result.GetValue(model.DType)!) != TorchSharp.torch.ScalarType.Float32 || ParsePrecision(result.GetValue(Precision)!) != OnnxPrecision.Float32)
                    throw new ArgumentException("--backend fastest runs float32 only (no --dtype or --onnx-precision)");
                var fastest = FastestBackend.LoadEncoder(result.GetValue(model.Model)!, new ModelLoadOptions { RandomInit = result.GetValue(model.RandomInit) },
                    result.GetValue(model.ImageSize), new OnnxRuntimeOptions { IntraOpThreads = result.GetValue(Threads), AllowSpinning = !result.GetValue(NoSpin) },
                    progress: new Progress<string>(line => Console.Error.WriteLine(line)));
                var backend = (FastestBackend)fastest.Backend;
                Console.Error.WriteLine($"backend fastest ({(backend.ChoiceFromCache ? "cached" : "measured now")}): {backend.Choice.Describe()}");
                return fastest;
            case var other:
                throw new ArgumentException($"--backend must be torch, onnx or fastest, not '{other}'");
        }
    }

    public static OnnxPrecision ParsePrecision(string text) => text.ToLowerInvariant() switch
    {
        "fp32" or "float32" => OnnxPrecision.Float32,
        "fp16" or "float16" => OnnxPrecision.Float16,
        "int8" => OnnxPrecision.Int8,
        _ => throw new ArgumentException($"--onnx-precision must be fp32, fp16 or int8, not '{text}'"),
    };
}
