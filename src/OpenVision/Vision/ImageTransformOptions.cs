namespace OpenVision.Vision;

/// <summary>Settings of the evaluation transform (open_clip's <c>preprocess_cfg</c>): size, resize mode, filter, mean, std.</summary>
public sealed record ImageTransformOptions
{
    /// <summary>ImageNet channel means, the OpenVision default.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet channel standard deviations, the OpenVision default.</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Output side in pixels (the model's <c>image_size</c>).</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Per-channel mean in RGB order, in the 0..1 range (float32, as torchvision casts it).</summary>
    public IReadOnlyList<float> Mean { get; init; } = ImageNetMean;

    /// <summary>Per-channel standard deviation in RGB order, in the 0..1 range.</summary>
    public IReadOnlyList<float> Std { get; init; } = ImageNetStd;

    /// <summary>How the image is brought to the output size; OpenVision releases use <see cref="ResizeMode.Squash"/>.</summary>
    public ResizeMode Mode { get; init; } = ResizeMode.Squash;

    /// <summary>Resampling filter; OpenVision releases use <see cref="Vision.Interpolation.Bilinear"/>.
    /// "P" and "1" images are always resized with NEAREST, as Pillow forces it.</summary>
    public Interpolation Interpolation { get; init; } = Interpolation.Bilinear;

    /// <summary>Options from open_clip's <c>preprocess_cfg</c> values; null arguments keep the defaults.</summary>
    /// <param name="imageSize">The model's image size.</param>
    /// <param name="mean">"mean" (three numbers).</param>
    /// <param name="std">"std" (three numbers).</param>
    /// <param name="interpolation">"interpolation": "bilinear", "bicubic" or "nearest".</param>
    /// <param name="resizeMode">"resize_mode": "squash" or "shortest" (open_clip's names), or "jax_center_crop".</param>
    public static ImageTransformOptions FromOpenClip(int imageSize, IReadOnlyList<double>? mean = null, IReadOnlyList<double>? std = null,
                                                     string? interpolation = null, string? resizeMode = null)
    {
        var options = new ImageTransformOptions { ImageSize = imageSize };
        if (mean != null) options = options with { Mean = mean.Select(v => (float)v).ToArray() };
        if (std != null) options = options with { Std = std.Select(v => (float)v).ToArray() };
        if (interpolation != null)
        {
            options = options with
            {
                Interpolation = interpolation.ToLowerInvariant() switch
                {
                    "bilinear" => Interpolation.Bilinear,
                    "bicubic" => Interpolation.Bicubic,
                    "nearest" => Interpolation.Nearest,
                    _ => throw new ArgumentException($"unsupported interpolation \"{interpolation}\" (bilinear, bicubic, nearest)", nameof(interpolation)),
                },
            };
        }
        if (resizeMode != null)
        {
            options = options with
            {
                Mode = resizeMode.ToLowerInvariant() switch
                {
                    "squash" => ResizeMode.Squash,
                    "shortest" => ResizeMode.Shortest,
                    "jax_center_crop" => ResizeMode.JaxCenterCrop,
                    _ => throw new ArgumentException($"unsupported resize_mode \"{resizeMode}\" (squash, shortest, jax_center_crop)", nameof(resizeMode)),
                },
            };
        }
        options.Validate();
        return options;
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the size is positive and mean/std hold three finite
    /// numbers with positive std.</summary>
    public void Validate()
    {
        if (ImageSize <= 0) throw new ArgumentException($"ImageSize must be positive, got {ImageSize}");
        if (Mean is not { Count: 3 } || Std is not { Count: 3 }) throw new ArgumentException("Mean and Std need three values (R, G, B)");
        if (Mean.Any(v => !float.IsFinite(v)) || Std.Any(v => !float.IsFinite(v) || v <= 0))
            throw new ArgumentException("Mean must be finite and Std finite and positive");
    }
}
