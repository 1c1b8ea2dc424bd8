using OpenVision.IO;
using OpenVision.Lab.Plotting;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Training.Evaluation.Results;
using OpenVision.Vision;
using OpenVision.ZeroShot;

namespace OpenVision.Cli.Commands;

/// <summary>Maps <c>eval</c> arguments to library objects (data sources, names, templates, resize mode) and writes
/// the outputs (JSON, Markdown, confusion PNG).</summary>
internal static class EvalInputs
{
    /// <summary>A folder of class folders, WebDataset shards, a .csv/.tsv of path,label, or an IDX image file.</summary>
    public static ILabeledImageSource Labeled(string path, string? classNames, string? imageRoot, string? name)
    {
        var names = ClassNames(classNames);
        if (Directory.Exists(path)) return new ClassFolderSource(path, names, name);
        if (WebDatasetLabeledSource.LooksLikeShards(path)) return new WebDatasetLabeledSource(path, names, name);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file or folder");
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".csv" or ".tsv") return new CsvLabeledSource(path, names, imageRoot, name);
        if (IdxLabeledSource.LooksLikeIdx(path)) return new IdxLabeledSource(path, classNames: names, name: name);
        throw new ArgumentException($"{path}: --data must be a folder of class folders, WebDataset shards (dir/test-{{000000..000003}}.tar), a .csv/.tsv (path,label) or an IDX image file (…-images-idx3-ubyte[.gz])");
    }

    /// <summary>WebDataset shards, or a caption manifest (.jsonl, .json, .csv, .tsv).</summary>
    public static ICaptionedImageSource Captioned(string path, string? imageRoot, string? name) =>
        WebDatasetLabeledSource.LooksLikeShards(path) ? new WebDatasetCaptionSource(path, name) : new CaptionManifestSource(path, imageRoot, name);

    /// <summary>"imagenet", "fashion-mnist", a file with one name per line, or null (from the data).</summary>
    public static IReadOnlyList<string>? ClassNames(string? argument) => argument?.ToLowerInvariant() switch
    {
        null => null,
        "imagenet" => PromptSets.ImageNetClassNames,
        "fashion-mnist" or "fashionmnist" => IdxLabeledSource.FashionMnistClassNames,
        _ => PromptSets.ReadList(argument),
    };

    /// <summary>"clip" (the 81 of OpenVision's evaluator), "identity" ("{}"), or a file with one template per line.</summary>
    public static IReadOnlyList<string> Templates(string argument) => argument.ToLowerInvariant() switch
    {
        "clip" => PromptSets.ClipPaperTemplates,
        "identity" => PromptSets.Identity,
        _ => PromptSets.ReadList(argument),
    };

    /// <summary>"model" (the config's), "squash", "shortest" (open_clip crop) or "paper" (the JAX centre crop).</summary>
    public static ResizeMode? Resize(string argument) => argument.ToLowerInvariant() switch
    {
        "model" => null,
        "squash" => ResizeMode.Squash,
        "shortest" => ResizeMode.Shortest,
        "paper" or "jax" or "jax_center_crop" or "jax-center-crop" => ResizeMode.JaxCenterCrop,
        _ => throw new ArgumentException($"--resize must be model, squash, shortest or paper, not '{argument}'"),
    };

    /// <summary>Prints the Markdown table and skipped files; writes OUT.json and OUT.md when an output is given.</summary>
    public static void WriteResult(BenchmarkResult result, string? output, IReadOnlyList<SkippedItem> skipped)
    {
        foreach (var item in skipped.Take(20)) Console.Error.WriteLine($"skipped {item.Reason}");
        if (skipped.Count > 20) Console.Error.WriteLine($"… and {skipped.Count - 20} more skipped (all listed in the JSON details)");
        string markdown = MarkdownTable.Format([result]);
        Console.Write(markdown);
        if (output is null) return;
        result.Save(output);
        AtomicFile.WriteAllText(Path.ChangeExtension(output, ".md"), markdown);
        Console.WriteLine($"wrote {output} and {Path.ChangeExtension(output, ".md")}");
    }

    /// <summary>Prints the rate of an image loop (or that its features came from the cache), for notes.</summary>
    public static void WriteThroughput(string what, EncodeThroughput? throughput) =>
        Console.WriteLine(throughput is null ? $"{what}: features read from the cache" : $"{what}: {throughput.Format()}");

    /// <summary>Writes the confusion heat map to <paramref name="explicitPath"/>, or next to the output, when the
    /// data has at most <see cref="ConfusionMatrixPlot.MaxClasses"/> classes.</summary>
    public static void WriteConfusion(ClassificationTally tally, IReadOnlyList<string> classNames, string title, string? explicitPath, string? output)
    {
        string? path = explicitPath ?? (output is null ? null : Path.ChangeExtension(output, ".confusion.png"));
        if (path is null) return;
        if (classNames.Count > ConfusionMatrixPlot.MaxClasses)
        {
            if (explicitPath is not null) Console.Error.WriteLine($"no confusion plot: {classNames.Count} classes (limit {ConfusionMatrixPlot.MaxClasses})");
            return;
        }
        ConfusionMatrixPlot.Save(path, tally.Confusion(), classNames, title);
        Console.WriteLine($"wrote {path}");
    }
}

/// <summary>Progress of an evaluation's stages as console lines, one <see cref="ConsoleProgress"/> per stage.</summary>
internal sealed class EvalProgress : IProgress<EvaluationProgress>, IDisposable
{
    private string? stage;
    private ConsoleProgress? line;

    public void Report(EvaluationProgress value)
    {
        if (value.Stage != stage)
        {
            line?.Finish();
            stage = value.Stage;
            line = new ConsoleProgress(value.Stage);
        }
        line!.Report(value.Report);
    }

    public void Dispose() => line?.Finish();
}
