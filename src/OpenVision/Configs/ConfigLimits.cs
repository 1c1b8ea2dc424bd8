namespace OpenVision.Configs;

/// <summary>Upper bounds on every size a model config sets, checked by <see cref="ModelConfig.Problems"/> before
/// anything is allocated. They sit far above every released model (the largest built-in config has width 1536,
/// 48 blocks, 384 px at patch 8, 10^9 parameters) and far below what would exhaust a machine's memory.</summary>
public static class ConfigLimits
{
    /// <summary>Largest transformer width and <c>embed_dim</c>.</summary>
    public const int MaxWidth = 16_384;

    /// <summary>Most residual blocks in a tower.</summary>
    public const int MaxLayers = 1_024;

    /// <summary>Most attention heads in a tower.</summary>
    public const int MaxHeads = 1_024;

    /// <summary>Largest MLP ratio.</summary>
    public const double MaxMlpRatio = 64;

    /// <summary>Largest input resolution in pixels per side.</summary>
    public const int MaxImageSize = 4_096;

    /// <summary>Most patch tokens in one image (grid × grid), which bounds attention memory.</summary>
    public const int MaxPatchTokens = 65_536;

    /// <summary>Most image channels.</summary>
    public const int MaxInChannels = 16;

    /// <summary>Longest text context in tokens.</summary>
    public const int MaxContextLength = 4_096;

    /// <summary>Largest vocabulary.</summary>
    public const int MaxVocabSize = 1_000_000;

    /// <summary>Most parameters in the whole model (both towers).</summary>
    public const long MaxParameters = 10_000_000_000;
}
