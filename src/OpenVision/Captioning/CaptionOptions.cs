namespace OpenVision.Captioning;

/// <summary>How captions are generated.</summary>
public sealed record CaptionOptions
{
    /// <summary>The most <see cref="MaxTokens"/> allowed: 127. The decoder adds no positional embedding, so nothing in
    /// its weights bounds the length, but OpenVision 2 trains it on 128-token sequences (<c>token_len</c>), [bos] and
    /// 127 positions; longer captions are outside anything it saw, and a model that never emits [eos] would otherwise
    /// run one full decoder pass per token for as long as the limit says.</summary>
    public const int MaxTokensLimit = 127;

    /// <summary>The widest beam allowed: 64. Each step runs a decoder pass per beam (no key-value cache) and ranks
    /// width × width expansions, so the work of a caption grows with width × tokens; 64 × 127 passes is already minutes
    /// for a large model, while caption quality stops improving at a handful of beams (3–5 is usual).</summary>
    public const int MaxBeamWidth = 64;

    /// <summary>Most tokens per caption, [eos] not counted; 1 to <see cref="MaxTokensLimit"/>.</summary>
    public int MaxTokens { get; init; } = 64;

    /// <summary>Beam width; 1 is greedy decoding; at most <see cref="MaxBeamWidth"/>.</summary>
    public int BeamWidth { get; init; } = 1;

    /// <summary>Attention mask; <see cref="CaptionMask.Causal"/> is what the released weights were trained with.</summary>
    public CaptionMask Mask { get; init; } = CaptionMask.Causal;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a token limit outside 1..<see cref="MaxTokensLimit"/>
    /// or a beam width outside 1..<see cref="MaxBeamWidth"/>.</summary>
    public CaptionOptions Validate()
    {
        if (MaxTokens <= 0) throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "the token limit must be positive");
        if (MaxTokens > MaxTokensLimit)
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, $"the token limit is at most {MaxTokensLimit}, the caption positions the decoder was trained on");
        if (BeamWidth <= 0) throw new ArgumentOutOfRangeException(nameof(BeamWidth), BeamWidth, "the beam width must be positive");
        if (BeamWidth > MaxBeamWidth) throw new ArgumentOutOfRangeException(nameof(BeamWidth), BeamWidth, $"the beam width is at most {MaxBeamWidth}");
        return this;
    }
}
