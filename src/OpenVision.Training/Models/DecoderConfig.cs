using OpenVision.Configs;

namespace OpenVision.Training.Models;

/// <summary>Architecture of the CLIPS caption decoder (OpenVision <c>text_decoder.decode_variant</c>).</summary>
/// <remarks>The decoder is training-only: OpenVision's released open_clip checkpoints do not contain it.</remarks>
public sealed record DecoderConfig
{
    /// <summary>Transformer width.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Number of residual blocks.</summary>
    public int Layers { get; init; } = 12;

    /// <summary>Attention heads.</summary>
    public int Heads { get; init; } = 8;

    /// <summary>MLP hidden width.</summary>
    public int MlpWidth { get; init; } = 2048;

    /// <summary>Learnable query tokens, one per predicted caption position (OpenVision: <c>output_token_len</c> = 128).</summary>
    public int QueryTokens { get; init; } = 128;

    /// <summary>Output vocabulary rows (OpenVision: 32000, of which the tokenizer uses 30522).</summary>
    public int VocabSize { get; init; } = 32000;

    /// <summary>LayerNorm epsilon (flax's default, 1e-6).</summary>
    public double Eps { get; init; } = 1e-6;

    /// <summary>The decoder OpenVision trains with an encoder of the given size (train.sh: decoder name = encoder size letter).</summary>
    public static DecoderConfig For(EncoderSize size) => size switch
    {
        // text_decoder.decode_variant: width / depth / heads / mlp_dim (the text-tower table, not the vision one).
        EncoderSize.Tiny => new() { Width = 192, Layers = 12, Heads = 3, MlpWidth = 768 },
        EncoderSize.Small => new() { Width = 384, Layers = 12, Heads = 6, MlpWidth = 1536 },
        EncoderSize.Base => new() { Width = 512, Layers = 12, Heads = 8, MlpWidth = 2048 },
        EncoderSize.Large => new() { Width = 768, Layers = 12, Heads = 12, MlpWidth = 3072 },
        EncoderSize.So400m => new() { Width = 1152, Layers = 27, Heads = 16, MlpWidth = 4304 },
        EncoderSize.Huge => new() { Width = 1024, Layers = 24, Heads = 16, MlpWidth = 4096 },
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, null),
    };

    /// <summary>The decoder for an OpenVision model config, recognised by its vision width; throws for other widths.</summary>
    public static DecoderConfig For(ModelConfig model) => For(SizeOf(model));

    /// <summary>The encoder size of an OpenVision model config, recognised by its vision width.</summary>
    public static EncoderSize SizeOf(ModelConfig model) => model.VisionCfg.Width switch
    {
        192 => EncoderSize.Tiny,
        384 => EncoderSize.Small,
        768 => EncoderSize.Base,
        1024 => EncoderSize.Large,
        1152 => EncoderSize.So400m,
        1280 => EncoderSize.Huge,
        var w => throw new ArgumentException(
            $"model '{model.Name}' has vision width {w}, which is not an OpenVision size (192, 384, 768, 1024, 1152, 1280); give a DecoderConfig explicitly", nameof(model)),
    };

    /// <summary>Throws <see cref="ArgumentException"/> for non-positive sizes or a width not divisible by the heads.</summary>
    public DecoderConfig Validate()
    {
        if (Width <= 0 || Layers <= 0 || Heads <= 0 || MlpWidth <= 0 || QueryTokens <= 0 || VocabSize <= 0)
            throw new ArgumentException($"decoder sizes must be positive: {this}");
        if (Width % Heads != 0) throw new ArgumentException($"decoder width {Width} is not divisible by {Heads} heads");
        if (Eps <= 0) throw new ArgumentException($"decoder LayerNorm eps must be positive, got {Eps}");
        return this;
    }
}
