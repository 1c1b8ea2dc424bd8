using OpenVision.Training;
using OpenVision.Training.Data;

namespace OpenVision.Lab.Datasets;

/// <summary>Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 70,000 28×28 grey images of Zalando articles in ten
/// classes, 60,000 for training and 10,000 for testing. Finds the files (Debian package <c>dataset-fashion-mnist</c>
/// or any folder), reads them and names the classes.</summary>
public static class FashionMnist
{
    /// <summary>Where the Debian package installs the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The command that installs the Debian package.</summary>
    public const string InstallCommand = "sudo apt-get install dataset-fashion-mnist";

    /// <summary>Environment variable that may name a folder holding the files.</summary>
    public const string DirectoryVariable = "OPENVISION_FASHION_MNIST";

    /// <summary>The official class names, in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Class names for zero-shot prompts ("a photo of a {name}."), in label order.</summary>
    public static IReadOnlyList<string> PromptNames { get; } =
        ["t-shirt", "pair of trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];

    /// <summary>Finds the four files in <paramref name="directory"/>, or else in the folder named by
    /// <see cref="DirectoryVariable"/>, or else in <see cref="DebianDirectory"/>. Each may be gzipped or plain.</summary>
    /// <exception cref="FileNotFoundException">The files are not there; the message says how to install them.</exception>
    public static FashionMnistFiles Locate(string? directory = null)
    {
        var candidates = new List<string>();
        if (directory is not null) candidates.Add(directory);
        else
        {
            if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } fromEnvironment) candidates.Add(fromEnvironment);
            candidates.Add(DebianDirectory);
        }
        foreach (string folder in candidates)
            if (TryLocate(folder, out var files)) return files;
        string where = string.Join(" or ", candidates);
        throw new FileNotFoundException(directory is null
            ? $"Fashion-MNIST was not found in {where}. Install it with:  {InstallCommand}  (Debian/Ubuntu), or put the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in a folder and set {DirectoryVariable} to it."
            : $"Fashion-MNIST was not found in {where}: it needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz). On Debian/Ubuntu:  {InstallCommand}  installs them in {DebianDirectory}.");
    }

    /// <summary>The 60,000 training images.</summary>
    public static FashionMnistSplit ReadTrain(string? directory = null)
    {
        var files = Locate(directory);
        return ReadSplit("train", files.TrainImages, files.TrainLabels);
    }

    /// <summary>The 10,000 test images.</summary>
    public static FashionMnistSplit ReadTest(string? directory = null)
    {
        var files = Locate(directory);
        return ReadSplit("test", files.TestImages, files.TestLabels);
    }

    /// <summary>Reads one split from an images file and a labels file and checks that they agree.</summary>
    /// <exception cref="InvalidDataException">A file is not valid IDX, or the shapes do not fit together.</exception>
    public static FashionMnistSplit ReadSplit(string name, string imagesPath, string labelsPath)
    {
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);
        if (images.Dimensions is not [var n, FashionMnistSplit.Side, FashionMnistSplit.Side])
            throw new InvalidDataException($"{imagesPath}: expected N x 28 x 28 images, found {string.Join("x", images.Dimensions)}");
        if (labels.Dimensions is not [var m])
            throw new InvalidDataException($"{labelsPath}: expected a 1-D label array, found {string.Join("x", labels.Dimensions)}");
        if (n != m) throw new InvalidDataException($"{imagesPath} holds {n} images but {labelsPath} holds {m} labels");
        int bad = Array.FindIndex(labels.Data, l => l >= ClassNames.Count);
        if (bad >= 0) throw new InvalidDataException($"{labelsPath}: label {labels.Data[bad]} at index {bad} is outside 0–9");
        return new FashionMnistSplit(name, images.Data, labels.Data);
    }

    private static bool TryLocate(string folder, out FashionMnistFiles files)
    {
        files = null!;
        string? Find(string stem) =>
            new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx", StringComparison.Ordinal) + ".gz", stem.Replace("-idx", ".idx", StringComparison.Ordinal) }
                .Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
        var found = new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" }.Select(Find).ToArray();
        if (found.Any(f => f is null)) return false;
        files = new FashionMnistFiles(found[0]!, found[1]!, found[2]!, found[3]!);
        return true;
    }
}
