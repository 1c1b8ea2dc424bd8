using System.Buffers.Binary;
using System.IO.Compression;
using OpenVision.Vision;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>MNIST-style IDX files (Fashion-MNIST): a uint8 image file [N, rows, cols] and a uint8 label file [N],
/// plain or gzipped. Images stream from disk as Pillow "L" images, as torchvision's MNIST gives them.</summary>
/// <remarks>A deliberately minimal reader for evaluation; the training data module has its own.</remarks>
public sealed class IdxLabeledSource : ILabeledImageSource
{
    /// <summary>Fashion-MNIST's class names (torchvision's order).</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private readonly string imagesPath;
    private readonly byte[] labels;
    private readonly int rows, cols;

    /// <summary>Reads the headers and the labels; images are read when the source is.</summary>
    /// <param name="imagesPath">The image file, e.g. <c>t10k-images-idx3-ubyte.gz</c>.</param>
    /// <param name="labelsPath">The label file; null derives it (<c>images-idx3</c> → <c>labels-idx1</c>).</param>
    /// <param name="classNames">Class names; null uses the label digits ("0", "1", …).</param>
    /// <param name="name">Data set name; null uses the image file's name.</param>
    public IdxLabeledSource(string imagesPath, string? labelsPath = null, IReadOnlyList<string>? classNames = null, string? name = null)
    {
        this.imagesPath = Path.GetFullPath(imagesPath);
        labelsPath ??= LabelsPathFor(imagesPath);
        LabelsPath = Path.GetFullPath(labelsPath);
        using (var stream = Open(labelsPath))
        {
            var dims = ReadHeader(stream, labelsPath, expectedDims: 1);
            labels = new byte[dims[0]];
            stream.ReadExactly(labels);
        }
        using (var stream = Open(imagesPath))
        {
            var dims = ReadHeader(stream, imagesPath, expectedDims: 3);
            if (dims[0] != labels.Length) throw new InvalidDataException($"{imagesPath}: {dims[0]} images but {labels.Length} labels in {labelsPath}");
            (rows, cols) = (dims[1], dims[2]);
        }
        int classes = labels.Length == 0 ? 0 : labels.Max() + 1;
        ClassNames = classNames ?? Enumerable.Range(0, classes).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        if (classes > ClassNames.Count) throw new InvalidDataException($"{labelsPath}: label {classes - 1} but only {ClassNames.Count} class names");
        Name = name ?? Path.GetFileName(imagesPath).Split('-')[0];
    }

    /// <summary>The label file in use.</summary>
    public string LabelsPath { get; }

    /// <summary>The conventional label file next to an image file (<c>images-idx3</c> → <c>labels-idx1</c>).</summary>
    public static string LabelsPathFor(string imagesPath)
    {
        string file = Path.GetFileName(imagesPath);
        if (!file.Contains("images-idx3", StringComparison.Ordinal))
            throw new ArgumentException($"{imagesPath}: cannot derive the label file name (expected '…images-idx3…'); give it explicitly");
        return Path.Combine(Path.GetDirectoryName(imagesPath) ?? "", file.Replace("images-idx3", "labels-idx1", StringComparison.Ordinal));
    }

    /// <summary>True when an existing file is named like an IDX file (<c>…-idx3-ubyte[.gz]</c>), for command-line dispatch.</summary>
    public static bool LooksLikeIdx(string path) =>
        File.Exists(path) && Path.GetFileName(path).Contains("-idx", StringComparison.Ordinal);

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public long? Count => labels.Length;

    /// <inheritdoc/>
    public string? Fingerprint => "idx:" + FileFingerprint.Of([imagesPath, LabelsPath]);

    /// <inheritdoc/>
    public IEnumerable<LabeledImage> Read(CancellationToken cancellationToken = default)
    {
        using var stream = Open(imagesPath);
        ReadHeader(stream, imagesPath, expectedDims: 3);
        for (int i = 0; i < labels.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pixels = new byte[rows * cols];
            stream.ReadExactly(pixels);
            // Raw pixels, not a file: the format tag only says "lossless".
            var image = new DecodedImage(cols, rows, ImageMode.L, pixels, ImageFormat.Png);
            yield return new LabeledImage(ImageSample.FromImage($"{Name}:{i}", image), labels[i]);
        }
    }

    private static Stream Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        int read = file.Read(magic);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new BufferedStream(new GZipStream(file, CompressionMode.Decompress), 1 << 16) : file;
    }

    // IDX: two zero bytes, type 0x08 (uint8), number of dimensions, then each dimension as a big-endian int32.
    private static int[] ReadHeader(Stream stream, string path, int expectedDims)
    {
        Span<byte> head = stackalloc byte[4];
        stream.ReadExactly(head);
        if (head[0] != 0 || head[1] != 0 || head[2] != 0x08) throw new InvalidDataException($"{path}: not a uint8 IDX file");
        if (head[3] != expectedDims) throw new InvalidDataException($"{path}: {head[3]} dimensions, expected {expectedDims}");
        var dims = new int[expectedDims];
        Span<byte> word = stackalloc byte[4];
        for (int d = 0; d < expectedDims; d++)
        {
            stream.ReadExactly(word);
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[d] < 0) throw new InvalidDataException($"{path}: negative dimension");
        }
        return dims;
    }
}
