using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Vision;

namespace OpenVision.Lab.Datasets;

/// <summary>One split of Fashion-MNIST in memory: 28×28 grey images (0 = background) and their class labels.</summary>
public sealed class FashionMnistSplit
{
    /// <summary>Image side in pixels.</summary>
    public const int Side = 28;

    /// <summary>Wraps images (count × 28 × 28 bytes, row-major) and labels (count bytes, 0–9).</summary>
    public FashionMnistSplit(string name, byte[] images, byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Length != (long)labels.Length * Side * Side)
            throw new ArgumentException($"{name}: {images.Length} image bytes do not match {labels.Length} labels of {Side}x{Side} images");
        int bad = Array.FindIndex(labels, l => l >= FashionMnist.ClassNames.Count);
        if (bad >= 0) throw new ArgumentException($"{name}: label {labels[bad]} at index {bad} is not a Fashion-MNIST class (0–9)");
        (Name, Images, Labels) = (name, images, labels);
    }

    /// <summary>"train" or "test" (or the caller's name).</summary>
    public string Name { get; }

    /// <summary>All images, row-major, <see cref="Side"/>² bytes each.</summary>
    public byte[] Images { get; }

    /// <summary>The class of each image (index into <see cref="FashionMnist.ClassNames"/>).</summary>
    public byte[] Labels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>The pixels of image <paramref name="index"/> (784 bytes).</summary>
    public ReadOnlySpan<byte> Pixels(int index) => Images.AsSpan(checked(index * Side * Side), Side * Side);

    /// <summary>Image <paramref name="index"/> as a decoded grey ("L") image, as if read from a PNG.</summary>
    public DecodedImage Image(int index) => new(Side, Side, ImageMode.L, Pixels(index).ToArray(), ImageFormat.Png);
}
