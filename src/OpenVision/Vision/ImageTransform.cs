using System.Buffers;
using System.Buffers.Binary;
using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Vision;

/// <summary>The evaluation transform of open_clip (Resize → convert('RGB') → ToTensor → Normalize) on decoded
/// images, reproducing Pillow 9.4 + torchvision 0.14 bit for bit in the Squash and Shortest modes.</summary>
/// <remarks>Resizing happens in the image's own Pillow mode, as the reference does it before convert('RGB'):
/// "P"/"1" with NEAREST, "RGBA"/"LA" premultiplied then unpremultiplied (alpha dropped without compositing),
/// "CMYK" as four channels, "I" in double precision then clipped. Instances are immutable and thread-safe.</remarks>
public sealed class ImageTransform
{
    private readonly float[][] _lut; // per channel: byte value → normalized float

    /// <summary>Creates the transform; the options are validated.</summary>
    public ImageTransform(ImageTransformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _lut = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            _lut[c] = new float[256];
            float mean = options.Mean[c], std = options.Std[c];
            // torchvision: ToTensor divides by 255 in float32, Normalize subtracts then divides, in float32.
            // big_vision's vgg_value_range works in 0..255: (x - mean·255) / (std·255).
            float mean255 = mean * 255f, std255 = std * 255f;
            for (int v = 0; v < 256; v++)
                _lut[c][v] = options.Mode == ResizeMode.JaxCenterCrop ? (v - mean255) / std255 : (v / 255f - mean) / std;
        }
    }

    /// <summary>The options this transform was built with.</summary>
    public ImageTransformOptions Options { get; }

    /// <summary>Floats per image: 3 × ImageSize × ImageSize.</summary>
    public int OutputLength => 3 * Options.ImageSize * Options.ImageSize;

    /// <summary>Transforms one image to a new normalized [3, S, S] array (channel-major, RGB).</summary>
    public float[] ToChw(DecodedImage image)
    {
        var result = new float[OutputLength];
        ToChw(image, result);
        return result;
    }

    /// <summary>Transforms one image into <paramref name="destination"/> (at least <see cref="OutputLength"/> floats).</summary>
    public void ToChw(DecodedImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (destination.Length < OutputLength) throw new ArgumentException($"destination holds {destination.Length} floats, {OutputLength} needed", nameof(destination));
        int plane = Options.ImageSize * Options.ImageSize;
        byte[] rgb = ArrayPool<byte>.Shared.Rent(plane * 3);
        try
        {
            ResizeToRgb(image, rgb.AsSpan(0, plane * 3));
            Span<float> r = destination[..plane], g = destination.Slice(plane, plane), b = destination.Slice(2 * plane, plane);
            float[] lr = _lut[0], lg = _lut[1], lb = _lut[2];
            for (int i = 0, p = 0; i < plane; i++, p += 3)
            {
                r[i] = lr[rgb[p]];
                g[i] = lg[rgb[p + 1]];
                b[i] = lb[rgb[p + 2]];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgb);
        }
    }

    /// <summary>Transforms a batch into a float32 tensor [N, 3, S, S] on the CPU (images in parallel, on libtorch's
    /// threads where possible: see <c>TorchThreadTeam</c>).</summary>
    public torch.Tensor ToTensor(IReadOnlyList<DecodedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int length = OutputLength, size = Options.ImageSize;
        var data = new float[checked((long)images.Count * length)];
        if (images.Count == 1) ToChw(images[0], data);
        else TorchThreadTeam.For(images.Count, i => ToChw(images[i], data.AsSpan(i * length, length)));
        return torch.tensor(data, [images.Count, 3, size, size]);
    }

    /// <summary>The resized, cropped uint8 RGB image before normalization: S × S × 3 bytes.</summary>
    public byte[] ResizeToRgb(DecodedImage image)
    {
        var rgb = new byte[Options.ImageSize * Options.ImageSize * 3];
        ResizeToRgb(image, rgb);
        return rgb;
    }

    private void ResizeToRgb(DecodedImage image, Span<byte> rgb)
    {
        int size = Options.ImageSize;
        if (Options.Mode == ResizeMode.JaxCenterCrop)
        {
            // TensorFlow decodes straight to RGB (alpha stripped, palette expanded), then resizes.
            byte[] full = image.Mode is ImageMode.Rgb or ImageMode.P ? image.Pixels : image.ToRgb();
            TfResize.ResizeSmallCenterCrop(full, image.Width, image.Height, size, rgb);
            return;
        }
        int width = size, height = size, left = 0, top = 0;
        if (Options.Mode == ResizeMode.Shortest)
        {
            // torchvision 0.14 _compute_resized_output_size: the long side is truncated; CenterCrop rounds half to even.
            bool wide = image.Width > image.Height;
            int shortSide = wide ? image.Height : image.Width, longSide = wide ? image.Width : image.Height;
            int newLong = (int)((double)size * longSide / shortSide);
            (width, height) = wide ? (newLong, size) : (size, newLong);
            left = (int)Math.Round((width - size) / 2.0, MidpointRounding.ToEven);
            top = (int)Math.Round((height - size) / 2.0, MidpointRounding.ToEven);
        }
        var (pixels, mode, pooled, cropped) = ResizeInMode(image, width, height, left, top, size);
        if (cropped) (width, left, top) = (size, 0, 0);
        try
        {
            int bytesPerPixel = mode.BytesPerPixel();
            for (int y = 0; y < size; y++)
            {
                var row = pixels.AsSpan(((top + y) * width + left) * bytesPerPixel, size * bytesPerPixel);
                PillowConvert.ToRgb(mode, row, rgb.Slice(y * size * 3, size * 3), size);
            }
        }
        finally
        {
            if (pooled) ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    // Image.resize in the image's own mode. Returns the pixels (pooled when `Pooled`), the mode they are in, and whether
    // they are already the size × size crop at (left, top) (computed alone where the filter allows: the same bytes).
    private (byte[] Pixels, ImageMode Mode, bool Pooled, bool Cropped) ResizeInMode(DecodedImage image, int width, int height, int left, int top, int size)
    {
        var mode = image.Mode;
        if (image.Width == width && image.Height == height) return (image.Pixels, mode, false, false); // Pillow: a plain copy
        var filter = mode is ImageMode.P or ImageMode.Bilevel ? Interpolation.Nearest : Options.Interpolation;
        if (mode == ImageMode.I && filter != Interpolation.Nearest) return (ResizeInt32(image, width, height, filter), ImageMode.L, false, false);

        int channels = mode.BytesPerPixel(); // "I" with NEAREST moves whole 2-byte pixels
        bool premultiply = mode is ImageMode.Rgba or ImageMode.LA && filter != Interpolation.Nearest;
        if (!premultiply && filter != Interpolation.Nearest && image.Width != width && image.Height != height)
        {
            byte[] crop = ArrayPool<byte>.Shared.Rent(size * size * channels);
            PillowResize.ResizeCrop(image.Pixels, image.Width, image.Height, channels, crop, width, height, filter, left, top, size, size);
            return (crop, mode, true, true);
        }
        byte[] output = ArrayPool<byte>.Shared.Rent(width * height * channels);
        if (!premultiply)
        {
            PillowResize.Resize(image.Pixels, image.Width, image.Height, channels, output, width, height, filter);
            return (output, mode, true, false);
        }
        // Image.resize: RGBA → RGBa, resize, RGBa → RGBA (and LA through La).
        byte[] premultiplied = ArrayPool<byte>.Shared.Rent(image.Pixels.Length);
        try
        {
            var source = premultiplied.AsSpan(0, image.Pixels.Length);
            image.Pixels.CopyTo(source);
            PillowConvert.Premultiply(source, channels);
            PillowResize.Resize(source, image.Width, image.Height, channels, output, width, height, filter);
            PillowConvert.Unpremultiply(output.AsSpan(0, width * height * channels), channels);
            return (output, mode, true, false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(premultiplied);
        }
    }

    // Mode "I": resized as 32-bit integers, then clipped to 0..255 by convert('RGB') (returned as "L" bytes).
    private static byte[] ResizeInt32(DecodedImage image, int width, int height, Interpolation filter)
    {
        var values = new int[image.Width * image.Height];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadUInt16LittleEndian(image.Pixels.AsSpan(2 * i));
        var resized = PillowResizeInt32.Resize(values, image.Width, image.Height, width, height, filter);
        var result = new byte[resized.Length];
        for (int i = 0; i < resized.Length; i++) result[i] = (byte)Math.Clamp(resized[i], 0, 255);
        return result;
    }
}
