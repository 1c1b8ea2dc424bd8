using System.Diagnostics;
using System.Text.Json;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Cli.Tests;

/// <summary>Inputs a user gets wrong or a file system makes odd: one bad image among good ones, control characters in
/// names and labels, and a model config that leaves out a field open_clip requires.</summary>
public sealed class HostileInputCliTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-cli-hostile-").FullName;
    private static string Mini => ReferenceModels.Folder("ovtest-mini-p16-64");
    private static string Image(string name) => ReferenceData.Path("preprocess", "images", name);
    private static string Truncated => Image("truncated.jpg");
    private const string TruncatedProblem = "truncated JPEG: the data ends before the image is complete";

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void ClassifyReportsEveryGoodFileAndOneLinePerBadOne()
    {
        var result = Cli.Run("classify", Image("chelsea.png"), Truncated, Image("rocket.jpg"), "-l", "a cat", "-l", "a rocket", "-m", Mini);
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        Assert.Equal([$"openvision: error: {Truncated}: {TruncatedProblem}"], Lines(result.Stderr));
        var stdout = Lines(result.Stdout);
        Assert.Equal([Image("chelsea.png"), Image("rocket.jpg")], stdout.Where(l => !l.StartsWith(' ')));
        Assert.Equal(4, stdout.Count(l => l.StartsWith("  ")));

        // --json: valid JSON holding the good files only; the failure is the same line on stderr.
        var json = Cli.Run("classify", Image("chelsea.png"), Truncated, Image("rocket.jpg"), "-l", "a cat", "-l", "a rocket", "-m", Mini, "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.Equal([$"openvision: error: {Truncated}: {TruncatedProblem}"], Lines(json.Stderr));
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal([Image("chelsea.png"), Image("rocket.jpg")], document.RootElement.EnumerateArray().Select(e => e.GetProperty("image").GetString()));
        Assert.All(document.RootElement.EnumerateArray(), e => Assert.Equal(2, e.GetProperty("top").GetArrayLength()));
    }

    [Fact]
    public void CaptionCaptionsEveryGoodFileAndOneLinePerBadOne()
    {
        string model = Path.Combine(RepositoryRoot(), "tests", "OpenVision.Tests", "Fixtures", "ov2", "ov2-mini-a");
        string image = Path.Combine(model, "..", "caption-image.png");
        var result = Cli.Run("caption", "--model", model, image, Truncated, image, "--max-tokens", "4");
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        Assert.Equal([$"openvision: error: {Truncated}: {TruncatedProblem}"], Lines(result.Stderr));
        Assert.Equal(2, Lines(result.Stdout).Count(l => l.StartsWith(image + "\t")));

        var json = Cli.Run("caption", "--model", model, Truncated, image, "--max-tokens", "4", "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.Equal(image, JsonDocument.Parse(Assert.Single(Lines(json.Stdout))).RootElement.GetProperty("image").GetString());
    }

    [Fact]
    public void ControlCharactersInNamesAndLabelsAreEscapedButJsonStaysExact()
    {
        string name = Temp("esc\u001b[2Jx\u009b.png");
        File.Copy(Image("chelsea.png"), name);
        string label = "d\u001b[31mog";
        var result = Cli.Run("classify", name, "-l", label, "-l", "cat", "-m", Mini);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.False(result.Stdout.Any(c => char.IsControl(c) && c != '\n'), "a control character reached stdout: " + result.Stdout);
        Assert.Contains(Temp("esc\\x1b[2Jx\\x9b.png"), result.Stdout);
        Assert.Contains("d\\x1b[31mog", result.Stdout);

        using var document = JsonDocument.Parse(Cli.Run("classify", name, "-l", label, "-l", "cat", "-m", Mini, "--json").Stdout);
        var entry = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal(name, entry.GetProperty("image").GetString());
        Assert.Contains(label, entry.GetProperty("top").EnumerateArray().Select(e => e.GetProperty("label").GetString()));

        // Error lines too: a file that cannot be read, named with ESC and a tab.
        string bad = Temp("bad\u001b]0;title\u0007\t.png");
        File.WriteAllText(bad, "hello");
        var error = Cli.Run("classify", bad, "-l", "a", "-l", "b", "-m", Mini);
        Assert.Equal(1, error.ExitCode);
        var line = Assert.Single(Lines(error.Stderr));
        Assert.StartsWith($"openvision: error: {Temp("bad\\x1b]0;title\\x07\\x09.png")}: unknown image format", line);

        // A model folder named with ESC, as `info` prints it.
        string model = Temp("model\u001b[2J");
        Directory.CreateDirectory(model);
        foreach (var file in Directory.GetFiles(Mini)) File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        var info = Cli.Run("info", "-m", model);
        Assert.True(info.ExitCode == 0, info.Stderr);
        Assert.False(info.Stdout.Any(c => char.IsControl(c) && c != '\n'), "a control character reached stdout: " + info.Stdout);
        Assert.Contains(Temp("model\\x1b[2J"), info.Stdout);
    }

    [Fact]
    public void AConfigWithoutARequiredFieldFailsFastAsBadInput()
    {
        string model = CopyOfMini("no-embed", config => config.Replace("\"embed_dim\": 32,", ""));
        var watch = Stopwatch.StartNew();
        var missing = Cli.Run("classify", Image("chelsea.png"), "-l", "a", "-l", "b", "-m", model);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal([$"openvision: error: {Path.Combine(model, "open_clip_config.json")}: model_cfg.embed_dim is missing"], Lines(missing.Stderr));

        string empty = CopyOfMini("empty", _ => "{}");
        var none = Cli.Run("classify", Image("chelsea.png"), "-l", "a", "-l", "b", "-m", empty);
        Assert.Equal(1, none.ExitCode);
        Assert.Equal([$"openvision: error: {Path.Combine(empty, "open_clip_config.json")}: no model_cfg; expected {{\"model_cfg\": …, \"preprocess_cfg\": …}}"], Lines(none.Stderr));
        // Before: {} built a ViT-B/16 (520 MB, seconds) and failed on tensor shapes with exit 2.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
    }

    private string CopyOfMini(string name, Func<string, string> editConfig)
    {
        string folder = Temp(name);
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Mini)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        string config = Path.Combine(folder, "open_clip_config.json");
        string before = File.ReadAllText(config);
        string after = editConfig(before);
        Assert.NotEqual(before, after);
        File.WriteAllText(config, after);
        return folder;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OpenVision.slnx"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }
}
