namespace OpenVision.Captioning;

/// <summary>How captions are generated.</summary>
public sealed record CaptionOptions
{
    /// <summary>Most tokens per caption, [eos] not counted.</summary>
    public int MaxTokens { get; init; } = 64;

    /// <summary>Beam width; 1 is greedy decoding.</summary>
    public int BeamWidth { get; init; } = 1;

    /// <summary>Attention mask; <see cref="CaptionMask.Causal"/> is what the released weights were trained with.</summary>
    public CaptionMask Mask { get; init; } = CaptionMask.Causal;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a non-positive token limit or beam width.</summary>
    public CaptionOptions Validate()
    {
        if (MaxTokens <= 0) throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "the token limit must be positive");
        if (BeamWidth <= 0) throw new ArgumentOutOfRangeException(nameof(BeamWidth), BeamWidth, "the beam width must be positive");
        return this;
    }
}
