using OpenVision.Training.Data;

namespace OpenVision.Training.Augmentation;

/// <summary>The inception crop (Szegedy et al.; tf <c>sample_distorted_bounding_box</c>, torchvision
/// <c>RandomResizedCrop.get_params</c>): a random area fraction and log-uniform aspect ratio, placed uniformly.</summary>
public static class InceptionCrop
{
    /// <summary>Draws a crop for a <paramref name="width"/> × <paramref name="height"/> image.</summary>
    /// <remarks>torchvision's algorithm: up to <see cref="AugmentationOptions.CropAttempts"/> times draw the area
    /// fraction uniformly in [AreaMin, AreaMax] and the aspect ratio log-uniformly in [AspectMin, AspectMax], round
    /// w = √(area·ratio), h = √(area/ratio), and accept when the box fits; then place it uniformly. If no draw fits,
    /// take the largest centred box whose aspect ratio is clamped to the range. The area of an accepted box can leave
    /// [AreaMin, AreaMax] only by the rounding of w and h.</remarks>
    public static CropBox Sample(int width, int height, AugmentationOptions options, DataRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        double area = (double)width * height;
        double logMin = Math.Log(options.AspectMin), logMax = Math.Log(options.AspectMax);
        for (int attempt = 0; attempt < options.CropAttempts; attempt++)
        {
            double target = area * random.NextDouble(options.AreaMin, options.AreaMax);
            double ratio = Math.Exp(random.NextDouble(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(target * ratio)), h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return new CropBox(random.NextInt(width - w + 1), random.NextInt(height - h + 1), w, h, false);
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < options.AspectMin) ch = Math.Max(1, (int)Math.Round(cw / options.AspectMin));
        else if (inRatio > options.AspectMax) cw = Math.Max(1, (int)Math.Round(ch * options.AspectMax));
        return new CropBox((width - cw) / 2, (height - ch) / 2, cw, ch, true);
    }
}
