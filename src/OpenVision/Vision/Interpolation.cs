namespace OpenVision.Vision;

/// <summary>Pillow resampling filters (open_clip's <c>interpolation</c> strings "nearest", "bilinear", "bicubic").</summary>
public enum Interpolation
{
    /// <summary>Pillow NEAREST: the source pixel under each output pixel centre (ImagingScaleAffine).</summary>
    Nearest,

    /// <summary>Pillow BILINEAR: triangle filter widened by the scale factor when shrinking (antialiased).</summary>
    Bilinear,

    /// <summary>Pillow BICUBIC: Keys cubic with a = -0.5, widened by the scale factor when shrinking.</summary>
    Bicubic,
}
