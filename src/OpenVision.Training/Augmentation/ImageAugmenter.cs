using System.Buffers;
using OpenVision.Training.Data;
using OpenVision.Vision;

namespace OpenVision.Training.Augmentation;

/// <summary>Turns a decoded image into the normalised [3, S, S] floats of a training sample: inception crop, Pillow
/// bilinear resize to S×S, colour jitter and random grayscale, ImageNet normalisation. With augmentation disabled it
/// is exactly the evaluation transform (<see cref="ImageTransform"/>: squash resize, bilinear).</summary>
/// <remarks>All randomness comes from the generator passed per image, so a sample's augmentation depends on its seed
/// only, not on the thread or the order in which images are processed. Thread-safe.</remarks>
public sealed class ImageAugmenter
{
    private readonly ImageTransform _eval;
    private readonly float[] _mean, _std;

    /// <summary>Creates the augmenter for <paramref name="imageSize"/>-pixel outputs.</summary>
    public ImageAugmenter(int imageSize, AugmentationOptions? options = null, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null)
    {
        Options = options ?? AugmentationOptions.OpenVision;
        Options.Validate();
        _eval = new ImageTransform(new ImageTransformOptions
        {
            ImageSize = imageSize,
            Mean = mean ?? ImageTransformOptions.ImageNetMean,
            Std = std ?? ImageTransformOptions.ImageNetStd,
            Mode = ResizeMode.Squash,
            Interpolation = Interpolation.Bilinear,
        });
        _mean = [.. _eval.Options.Mean];
        _std = [.. _eval.Options.Std];
    }

    /// <summary>The augmentation settings.</summary>
    public AugmentationOptions Options { get; }

    /// <summary>Output side in pixels.</summary>
    public int ImageSize => _eval.Options.ImageSize;

    /// <summary>Floats per image: 3 × S × S.</summary>
    public int OutputLength => _eval.OutputLength;

    /// <summary>Writes the augmented, normalised image (channel-major RGB) into <paramref name="destination"/>.</summary>
    public void Apply(DecodedImage image, DataRandom random, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(random);
        if (!Options.Enabled)
        {
            _eval.ToChw(image, destination);
            return;
        }
        if (destination.Length < OutputLength) throw new ArgumentException($"destination holds {destination.Length} floats, {OutputLength} needed", nameof(destination));
        int size = ImageSize, plane = size * size;
        byte[] rgb = ArrayPool<byte>.Shared.Rent(plane * 3);
        float[] work = ArrayPool<float>.Shared.Rent(plane * 3);
        try
        {
            var box = InceptionCrop.Sample(image.Width, image.Height, Options, random);
            CropResize(image, box, rgb.AsSpan(0, plane * 3));
            var values = work.AsSpan(0, plane * 3);
            // Divide (not multiply by 1/255) so that the unjittered path gives torchvision's ToTensor floats exactly.
            for (int i = 0; i < values.Length; i++) values[i] = rgb[i] / 255f;
            ColorJitter.Apply(values, Options, random);
            for (int c = 0; c < 3; c++)
            {
                // Same float32 arithmetic as torchvision's Normalize: (x − mean) / std.
                float mean = _mean[c], std = _std[c];
                var output = destination.Slice(c * plane, plane);
                for (int i = 0, p = c; i < plane; i++, p += 3) output[i] = (values[p] - mean) / std;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(work);
            ArrayPool<byte>.Shared.Return(rgb);
        }
    }

    /// <summary>The crop <paramref name="box"/> of <paramref name="image"/> resized to S×S with Pillow's bilinear filter,
    /// as interleaved RGB bytes (S × S × 3).</summary>
    /// <remarks>Grey images are cropped and resized as one channel and replicated afterwards (three times less work,
    /// same bytes); other modes are converted to RGB first, as Pillow's <c>convert('RGB')</c> does.</remarks>
    public void CropResize(DecodedImage image, CropBox box, Span<byte> rgb)
    {
        ArgumentNullException.ThrowIfNull(image);
        int size = ImageSize;
        bool grey = image.Mode == ImageMode.L;
        int channels = grey ? 1 : 3;
        byte[] source = grey ? image.Pixels : image.ToRgb();
        byte[] crop = ArrayPool<byte>.Shared.Rent(box.Width * box.Height * channels);
        byte[] resized = ArrayPool<byte>.Shared.Rent(size * size * channels);
        try
        {
            int rowBytes = box.Width * channels;
            for (int y = 0; y < box.Height; y++)
                source.AsSpan(((box.Y + y) * image.Width + box.X) * channels, rowBytes).CopyTo(crop.AsSpan(y * rowBytes, rowBytes));
            var output = resized.AsSpan(0, size * size * channels);
            PillowResize.Resize(crop.AsSpan(0, box.Height * rowBytes), box.Width, box.Height, channels, output, size, size, Interpolation.Bilinear);
            if (!grey) output.CopyTo(rgb);
            else for (int i = 0; i < size * size; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = output[i];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(resized);
            ArrayPool<byte>.Shared.Return(crop);
        }
    }
}
