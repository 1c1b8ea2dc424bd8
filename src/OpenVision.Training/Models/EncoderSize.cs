namespace OpenVision.Training.Models;

/// <summary>The OpenVision encoder sizes (big_vision variant letters Ti, S, B, L, So400m, H).</summary>
public enum EncoderSize
{
    /// <summary>Ti: vision width 192.</summary>
    Tiny,
    /// <summary>S: vision width 384.</summary>
    Small,
    /// <summary>B: vision width 768.</summary>
    Base,
    /// <summary>L: vision width 1024.</summary>
    Large,
    /// <summary>So400m: vision width 1152.</summary>
    So400m,
    /// <summary>H: vision width 1280.</summary>
    Huge,
}
