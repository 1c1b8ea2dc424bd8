using System.CommandLine;
using static TorchSharp.torch;

namespace OpenVision.Cli.Commands;

/// <summary>The options every model-using command shares.</summary>
internal sealed class ModelArguments
{
    public Option<string> Model { get; } = new("--model", "-m")
    {
        Description = "Built-in name, hub-style folder, checkpoint file, or hf-hub:ORG/NAME[@REVISION]",
        Required = true,
    };

    public Option<bool> RandomInit { get; } = new("--random-init") { Description = "Allow a config without weights (random initialisation)" };

    public Option<string> DType { get; } = new("--dtype")
    {
        Description = "float32, float64, or bfloat16 (bf16: faster only where the CPU's bfloat16 dot products outrun its fp32 FMAs, as 'bench' reports; about 1e-2 relative error; outputs are still written as float32)",
        DefaultValueFactory = _ => "float32",
    };

    public Option<int?> ImageSize { get; } = new("--image-size", "--size") { Description = "Run at this resolution instead of the config's" };

    public ModelArguments()
    {
        // Checked at parse time: a resolution of 1e6 would otherwise be a multi-terabyte allocation later.
        ImageSize.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is int size && (size < 1 || size > Configs.ConfigLimits.MaxImageSize))
                result.AddError($"--image-size {size} must be between 1 and {Configs.ConfigLimits.MaxImageSize}");
        });
    }

    public void AddTo(Command command, bool withWeights = true)
    {
        command.Add(Model);
        command.Add(ImageSize);
        if (!withWeights) return;
        command.Add(RandomInit);
        command.Add(DType);
    }

    public OpenVisionEncoder LoadEncoder(ParseResult result) => OpenVisionEncoder.Load(
        result.GetValue(Model)!,
        new ModelLoadOptions { DType = ParseDType(result.GetValue(DType)!), RandomInit = result.GetValue(RandomInit) },
        result.GetValue(ImageSize));

    public static ScalarType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "float64" or "fp64" => ScalarType.Float64,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"--dtype must be float32, float64 or bfloat16, not '{text}'"),
    };
}
