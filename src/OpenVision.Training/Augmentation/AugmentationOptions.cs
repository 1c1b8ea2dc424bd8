namespace OpenVision.Training.Augmentation;

/// <summary>The training augmentation of OpenVision (reference §4.4): inception crop, colour jitter, random grayscale.
/// Defaults are the reference's values; <see cref="Enabled"/> = false gives the evaluation transform (plain resize).</summary>
public sealed record AugmentationOptions
{
    /// <summary>Apply the random crop, jitter and grayscale; when false every image is just resized to S×S.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Smallest crop area as a fraction of the image (big_vision <c>inception_crop(area_min=40)</c>).</summary>
    public double AreaMin { get; init; } = 0.40;

    /// <summary>Largest crop area as a fraction of the image.</summary>
    public double AreaMax { get; init; } = 1.0;

    /// <summary>Smallest crop aspect ratio (width / height).</summary>
    public double AspectMin { get; init; } = 3.0 / 4.0;

    /// <summary>Largest crop aspect ratio (width / height).</summary>
    public double AspectMax { get; init; } = 4.0 / 3.0;

    /// <summary>Random draws before falling back to a centre crop (torchvision RandomResizedCrop: 10).</summary>
    public int CropAttempts { get; init; } = 10;

    /// <summary>Probability of applying the colour jitter (SimCLR: 0.8).</summary>
    public double JitterProbability { get; init; } = 0.8;

    /// <summary>Brightness factor range: ×[1 − b, 1 + b] (SimCLR strength 0.4 × 0.8 = 0.32).</summary>
    public double Brightness { get; init; } = 0.32;

    /// <summary>Contrast factor range around the image's mean grey: [1 − c, 1 + c].</summary>
    public double Contrast { get; init; } = 0.32;

    /// <summary>Saturation factor range around each pixel's grey: [1 − s, 1 + s].</summary>
    public double Saturation { get; init; } = 0.32;

    /// <summary>Hue shift range as a fraction of the colour circle: [−h, h] (SimCLR strength 0.4 × 0.2 = 0.08).</summary>
    public double Hue { get; init; } = 0.08;

    /// <summary>Probability of converting the image to grey (SimCLR: 0.2).</summary>
    public double GrayscaleProbability { get; init; } = 0.2;

    /// <summary>The reference's training augmentation.</summary>
    public static AugmentationOptions OpenVision { get; } = new();

    /// <summary>No augmentation: the evaluation transform.</summary>
    public static AugmentationOptions None { get; } = new() { Enabled = false };

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (!(AreaMin > 0 && AreaMin <= AreaMax && AreaMax <= 1)) throw new ArgumentOutOfRangeException(nameof(AreaMin), $"need 0 < AreaMin ≤ AreaMax ≤ 1, got {AreaMin}, {AreaMax}");
        if (!(AspectMin > 0 && AspectMin <= AspectMax)) throw new ArgumentOutOfRangeException(nameof(AspectMin), $"need 0 < AspectMin ≤ AspectMax, got {AspectMin}, {AspectMax}");
        if (CropAttempts < 0) throw new ArgumentOutOfRangeException(nameof(CropAttempts), CropAttempts, "must be non-negative");
        foreach (var (name, p) in new[] { (nameof(JitterProbability), JitterProbability), (nameof(GrayscaleProbability), GrayscaleProbability) })
            if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(name, p, "must be a probability");
        foreach (var (name, v) in new[] { (nameof(Brightness), Brightness), (nameof(Contrast), Contrast), (nameof(Saturation), Saturation) })
            if (!(v >= 0 && v <= 1)) throw new ArgumentOutOfRangeException(name, v, "must be in [0, 1]");
        if (!(Hue >= 0 && Hue <= 0.5)) throw new ArgumentOutOfRangeException(nameof(Hue), Hue, "must be in [0, 0.5]");
    }
}
