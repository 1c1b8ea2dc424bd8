namespace OpenVision;

/// <summary>The file names of an open_clip model folder (the Hugging Face hub layout OpenVision publishes).</summary>
public static class ModelFiles
{
    /// <summary>The architecture and preprocessing, open_clip JSON.</summary>
    public const string Config = "open_clip_config.json";

    /// <summary>Weights as safetensors, preferred when both are present.</summary>
    public const string Safetensors = "open_clip_model.safetensors";

    /// <summary>Weights as a PyTorch zip checkpoint.</summary>
    public const string PyTorchBin = "open_clip_pytorch_model.bin";

    /// <summary>The weight files in the order they are looked for.</summary>
    public static IReadOnlyList<string> Weights { get; } = [Safetensors, PyTorchBin];
}
