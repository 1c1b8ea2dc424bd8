using OpenVision.Checkpoints;
using OpenVision.IO;
using OpenVision.Search;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Cli.Tests;

// Outputs through the real CLI: a failed run leaves what an earlier run wrote as it was, an output that cannot be
// written is refused before the work, and every such failure is one line naming the file the user gave.
public sealed class OutputSafetyCliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-cli-outputs-").FullName;
    private static string Model => ReferenceModels.Folder("ovtest-mini-p16-64");
    private static string Image(string name) => ReferenceData.Path("preprocess", "images", name);

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    private static string OneErrorLine(Cli.Result result, int code = 1)
    {
        Assert.True(result.ExitCode == code, $"exit {result.ExitCode}, expected {code}\n{result.Stdout}\n{result.Stderr}");
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr:\n" + result.Stderr);
        Assert.StartsWith("openvision: error: ", lines[0]);
        return lines[0];
    }

    private string Folder(string name, params string[] images)
    {
        Directory.CreateDirectory(Temp(name));
        foreach (var image in images) File.Copy(Image(image), Path.Combine(Temp(name), image));
        return Temp(name);
    }

    [Fact]
    public void AnEmbedThatFailsLateKeepsTheOldOutputAndItsImageList()
    {
        string output = Temp("e.safetensors"), list = output + ".images.txt";
        var first = Cli.Run("embed", "--model", Model, "--images", Folder("a", "horse.png", "camera.png"), "--output", output);
        Assert.True(first.ExitCode == 0, first.Stderr);
        byte[] oldOutput = File.ReadAllBytes(output), oldList = File.ReadAllBytes(list);

        // A second run that fails after the model has written rows: the pixels embed, then none of the files reads.
        string pixels = Temp("pixels.npy"), bad = Temp("bad");
        NpyFile.Write(pixels, new TensorData(TensorDType.F32, [1, 3, 64, 64], new byte[3 * 64 * 64 * 4]));
        Directory.CreateDirectory(bad);
        File.WriteAllText(Path.Combine(bad, "broken.png"), "not a png");
        var failed = Cli.Run("embed", "--model", Model, "--pixels", pixels, "--images", bad, "--output", output);
        Assert.StartsWith("openvision: error: none of the 1 images could be read", OneErrorLine(failed));
        Assert.Equal(oldOutput, File.ReadAllBytes(output));
        Assert.Equal(oldList, File.ReadAllBytes(list));
        Assert.Equal([output, list, pixels], Directory.GetFiles(temp).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WithPixelsAndImageFilesTheListNamesEveryRow()
    {
        string output = Temp("e.safetensors"), pixels = Temp("pixels.npy");
        NpyFile.Write(pixels, new TensorData(TensorDType.F32, [2, 3, 64, 64], new byte[2 * 3 * 64 * 64 * 4]));
        var result = Cli.Run("embed", "--model", Model, "--pixels", pixels, "--images", Folder("a", "horse.png"), "--output", output);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(3, SafetensorsFile.Read(output)["image_features"].Shape[0]);
        Assert.Equal([$"{pixels}[0]", $"{pixels}[1]", Path.Combine(Temp("a"), "horse.png")], File.ReadAllLines(output + ".images.txt"));
    }

    [Fact]
    public void AnEmbedWithoutImageFilesRemovesTheListOfAnEarlierRun()
    {
        string output = Temp("e.safetensors"), list = output + ".images.txt";
        Assert.Equal(0, Cli.Run("embed", "--model", Model, "--images", Image("horse.png"), "--output", output).ExitCode);
        Assert.Equal([Image("horse.png")], File.ReadAllLines(list));

        var texts = Cli.Run("embed", "--model", Model, "--texts", "a cat", "--output", output);
        Assert.True(texts.ExitCode == 0, texts.Stderr);
        Assert.Equal(["text_features"], SafetensorsFile.Read(output).Keys);
        Assert.False(File.Exists(list));
    }

    [Fact]
    public void ANpyForSeveralArraysIsRefusedBeforeTheModelLoads()
    {
        // A model that does not exist shows the order: the output is refused first.
        string missingModel = Temp("no-such-model");
        var line = OneErrorLine(Cli.Run("embed", "--model", missingModel, "--images", Image("horse.png"), "--texts", "hi", "--output", Temp("x.npy")));
        Assert.Contains($"{Temp("x.npy")}: a .npy file holds one array and this request makes 2 (image_features, text_features); use .safetensors", line);
        line = OneErrorLine(Cli.Run("embed", "--model", missingModel, "--images", Image("horse.png"), "--tokens", "--layer", "-2", "--output", Temp("x.npy")));
        Assert.Contains("makes 3 (image_features, image_tokens, image_hidden)", line);
        Assert.Empty(Directory.GetFileSystemEntries(temp));
    }

    [Fact]
    public void AFolderInThePlaceOfTheOutputIsRefusedBeforeTheModelLoads()
    {
        Directory.CreateDirectory(Temp("isdir.npy"));
        var line = OneErrorLine(Cli.Run("embed", "--model", Temp("no-such-model"), "--texts", "hi", "--output", Temp("isdir.npy")));
        Assert.Equal($"openvision: error: {Temp("isdir.npy")}: is a folder; give a file path", line);
        Assert.Empty(Directory.GetFileSystemEntries(Temp("isdir.npy")));
    }

    [Theory]
    [InlineData("eval", "zeroshot", "--output")]
    [InlineData("eval", "retrieval", "--output")]
    [InlineData("eval", "linear-probe", "--output")]
    [InlineData("eval", "zeroshot", "--confusion")]
    public void EvalRefusesAnOutputInAMissingFolderBeforeItRuns(string command, string sub, string option)
    {
        string missing = Temp("nosuch/r.json");
        // The data does not exist either: the output is checked first, before any data is read.
        string[] args = [command, sub, "--model", Model, "--data", Temp("no-data"), option, missing];
        if (sub == "linear-probe") args = [.. args, "--test-data", Temp("no-data")];
        var line = OneErrorLine(Cli.Run(args));
        Assert.Contains($"{option} {missing}: the folder {Temp("nosuch")} does not exist", line);
    }

    [Fact]
    public void EmbedMergeRefusesAnOutputInAMissingFolderFirst()
    {
        var line = OneErrorLine(Cli.Run("embed-merge", Temp("no-job"), "--output", Temp("nosuch/m.safetensors")));
        Assert.Contains($"--output {Temp("nosuch/m.safetensors")}: the folder {Temp("nosuch")} does not exist", line);
    }

    [Fact]
    public void AFolderWithoutImagesIsNamedAsTheInput()
    {
        string empty = Folder("empty");
        File.WriteAllText(Path.Combine(empty, "readme.txt"), "not an image");
        var line = OneErrorLine(Cli.Run("embed", "--model", Model, "--images", empty, "--output", Temp("o.npy")));
        Assert.StartsWith($"openvision: error: no images found in {empty} (folders are searched for ", line);
        line = OneErrorLine(Cli.Run("index", "build", "--model", Model, "--images", empty, "--output", Temp("idx")));
        Assert.StartsWith($"openvision: error: no images found in {empty}", line);
        Assert.False(File.Exists(Temp("o.npy")));
        Assert.False(Directory.Exists(Temp("idx")));
    }

    [Fact]
    public void IndexBuildOverOnlyUnreadableImagesFailsAndLeavesNoIndex()
    {
        string bad = Folder("bad", "truncated.jpg");
        File.WriteAllText(Path.Combine(bad, "x.png"), "hello");
        var line = OneErrorLine(Cli.Run("index", "build", "--model", Model, "--images", bad, "--output", Temp("idx")));
        Assert.Contains("none of the 2 images could be read (first: ", line);
        Assert.EndsWith($"no index was made in {Temp("idx")}", line);
        Assert.False(Directory.Exists(Temp("idx")));

        // A folder that was there (empty) stays, and stays empty.
        Directory.CreateDirectory(Temp("given"));
        OneErrorLine(Cli.Run("index", "build", "--model", Model, "--images", bad, "--output", Temp("given")));
        Assert.Empty(Directory.GetFileSystemEntries(Temp("given")));
    }

    [Fact]
    public void SearchingAnEmptyIndexSaysSo()
    {
        // An interrupted first build leaves a valid index of nothing; the library still makes one.
        using (var encoder = OpenVisionEncoder.Load(Model)) ImageIndexBuilder.Build(encoder, Model, [], Temp("idx"));
        var result = Cli.Run("search", "--index", Temp("idx"), "--text", "a cat");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("", result.Stdout);
        Assert.Equal($"openvision: {Temp("idx")}: the index holds no images; nothing to search", result.Stderr.TrimEnd('\n'));
    }

    [Fact]
    public void AnOutputTheSystemRefusesIsNamedNotItsTemporaryFile()
    {
        // /sys refuses new files (permission denied as root; a read-only file system where it is mounted so).
        string output = "/sys/ov-test-" + Guid.NewGuid().ToString("N")[..8] + ".safetensors";
        var line = OneErrorLine(Cli.Run("embed", "--model", Model, "--texts", "a cat", "--output", output));
        Assert.StartsWith($"openvision: error: {output}: cannot write (", line);
        Assert.DoesNotContain(".part", line);
        Assert.False(File.Exists(output));
    }
}
