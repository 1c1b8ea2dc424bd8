namespace OpenVision.Vision;

/// <summary>A container format the decoder recognises from the file's first bytes.</summary>
public enum ImageFormat
{
    /// <summary>JPEG (JFIF/Exif/Adobe), baseline or progressive.</summary>
    Jpeg,

    /// <summary>PNG, any bit depth and colour type, interlaced or not.</summary>
    Png,

    /// <summary>GIF87a/GIF89a; only the first frame is read.</summary>
    Gif,

    /// <summary>WebP, lossy or lossless; the first frame of an animation.</summary>
    WebP,

    /// <summary>Windows bitmap.</summary>
    Bmp,
}
