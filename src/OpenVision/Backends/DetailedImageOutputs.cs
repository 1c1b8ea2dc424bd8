namespace OpenVision.Backends;

/// <summary>The detailed image outputs a backend can give besides pooled features.</summary>
[Flags]
public enum DetailedImageOutputs
{
    /// <summary>Pooled features only.</summary>
    None = 0,

    /// <summary>Last-block patch tokens [N, G, W].</summary>
    PatchTokens = 1,

    /// <summary>Outputs of any block [N, 1+G, W] by layer index.</summary>
    BlockOutputs = 2,
}
