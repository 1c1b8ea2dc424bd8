using System.CommandLine;
using System.Text.Json;
using OpenVision.Pipelines;
using OpenVision.Search;
using OpenVision.Training.Evaluation.Datasets;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision index build|add|info|dedup</c>: a persistent, searchable index of image embeddings
/// (see <see cref="ImageIndexBuilder"/> and <see cref="ImageIndex"/>).</summary>
internal static class IndexCommand
{
    public static Command Create() => new("index", "Build, extend and inspect image search indexes")
    {
        CreateBuild("build", "Embed a collection into a new index (or resume an interrupted build)"),
        CreateBuild("add", "Embed new images into an existing index (those already in it are skipped)"),
        CreateInfo(),
        CreateDedup(),
    };

    private static Command CreateBuild(string name, string description)
    {
        bool adding = name == "add";
        var args = new ModelArguments();
        var images = new Option<string[]>("--images") { Description = "Image files or folders (searched recursively)", AllowMultipleArgumentsPerToken = true };
        var data = new Option<string?>("--data") { Description = "Captioned images: a manifest (.jsonl/.json/.csv/.tsv) or WebDataset shards (dir/x-{000000..000009}.tar)" };
        var labeled = new Option<string?>("--labeled") { Description = "Labeled images (class folders, .csv path,label, IDX file); the class name becomes the caption" };
        var imageRoot = new Option<string?>("--image-root") { Description = "Folder that relative paths in --data/--labeled manifests start from" };
        var output = new Option<string>(adding ? "--index" : "--output", "-o") { Description = "Index folder", Required = true };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Images per model call and per commit", DefaultValueFactory = _ => 32 };
        var approximate = new Option<string>("--approximate") { Description = "HNSW graph: auto (from 50,000 images), on or off", DefaultValueFactory = _ => "auto" };
        var quantization = new Option<string>("--quantization") { Description = "HNSW vector storage: f16, f32, bf16 or i8", DefaultValueFactory = _ => "f16" };
        var expansion = new Option<int>("--expansion-search", "--ef-search") { Description = "HNSW search expansion (ef) stored as the index's default; 'search --expansion-search' overrides it per query", DefaultValueFactory = _ => new HnswOptions().ExpansionSearch };
        var command = new Command(name, description) { images, data, labeled, imageRoot, output, batch, approximate, quantization };
        if (!adding) command.Options.Add(expansion);     // an existing graph keeps its own settings
        args.AddTo(command);
        if (adding) args.Model.Required = false;
        command.SetAction(r => CliErrors.Run(() =>
        {
            string folder = r.GetValue(output)!;
            if (adding && !File.Exists(Path.Combine(folder, "manifest.json"))) throw new ArgumentException($"{folder}: no index here (build one with 'openvision index build')");
            if (!adding && r.GetValue(expansion) < 1) throw new ArgumentException("--expansion-search must be at least 1");
            var inputs = Inputs(r.GetValue(images) ?? [], r.GetValue(data), r.GetValue(labeled), r.GetValue(imageRoot));
            var options = new IndexBuildOptions
            {
                BatchSize = r.GetValue(batch),
                Approximate = ParseSwitch(r.GetValue(approximate)!),
                Hnsw = new HnswOptions { Quantization = r.GetValue(quantization)!, ExpansionSearch = adding ? new HnswOptions().ExpansionSearch : r.GetValue(expansion) },
            };
            string? model = r.GetValue(args.Model);
            if (model is null) { using var existing = ImageIndex.Open(folder); model = existing.Manifest.Model.Name; }
            using var encoder = SearchCommand.LoadEncoder(args, r, model);
            using var signals = new CliSignals();
            var progress = new ConsoleProgress("images");
            bool fresh = !File.Exists(Path.Combine(folder, "manifest.json")), existed = Directory.Exists(folder);
            try
            {
                // A set of only unreadable images ends in one error line, as in embed: no progress lines before it.
                var report = ImageIndexBuilder.Build(encoder, model, inputs, folder, options,
                    new Progress(p => { if (p.Done > p.Skipped) progress.Report(p); }), signals.Token);
                progress.Finish();
                if (fresh && report.Total == 0)
                {
                    // An index of nothing is no use and would hide the problem; the folder is left as it was found.
                    RemoveNewIndex(folder, existed);
                    throw new InvalidDataException(report.Skipped.Count > 0
                        ? $"none of the {report.Skipped.Count} images could be read (first: {report.Skipped[0].Reason}); no index was made in {folder}"
                        : $"no images in the input; no index was made in {folder}");
                }
                foreach (var s in report.Skipped.Take(20)) Console.Error.WriteLine($"skipped {TerminalText.Escape(s.Reason)}");
                if (report.Skipped.Count > 20) Console.Error.WriteLine($"… and {report.Skipped.Count - 20} more (all in {folder}/skipped.jsonl)");
                string hnsw = report.HnswRows > 0 ? $", HNSW graph over {report.HnswRows}" : ", exact search";
                Console.WriteLine($"{folder}: {report.Added} images added at {report.ImagesPerSecond:F1} images/s, {report.AlreadyIndexed} already indexed, "
                    + $"{report.Skipped.Count} skipped; {report.Total} in the index{hnsw}");
                return 0;
            }
            catch (OperationCanceledException)
            {
                progress.Finish();
                long count;
                using (var interrupted = ImageIndex.Open(folder)) count = interrupted.Count;
                return CliErrors.Fail($"interrupted; {folder} holds {count} committed images; rerun the same command to continue", 130);
            }
        }));
        return command;
    }

    // Called only for a folder this build created or found empty, so everything in it is the build's own.
    private static void RemoveNewIndex(string folder, bool existed)
    {
        if (!existed) { Directory.Delete(folder, recursive: true); return; }
        foreach (var file in Directory.EnumerateFiles(folder)) File.Delete(file);
        foreach (var sub in Directory.EnumerateDirectories(folder)) Directory.Delete(sub, recursive: true);
    }

    private sealed class Progress(Action<ProgressReport> report) : IProgress<ProgressReport>
    {
        public void Report(ProgressReport value) => report(value);
    }

    private static bool? ParseSwitch(string text) => text.ToLowerInvariant() switch
    {
        "auto" => null,
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => throw new ArgumentException($"--approximate must be auto, on or off, not '{text}'"),
    };

    private static IReadOnlyCollection<IndexInput> Inputs(string[] images, string? data, string? labeled, string? imageRoot)
    {
        int given = (images.Length > 0 ? 1 : 0) + (data is null ? 0 : 1) + (labeled is null ? 0 : 1);
        if (given != 1) throw new ArgumentException("give exactly one of --images, --data and --labeled");
        if (images.Length > 0) return EmbedCommand.ExpandImages(images).Select(p => IndexInput.FromFile(p)).ToList();
        if (data is not null)
            return EvalInputs.Captioned(data, imageRoot, null).Read()
                .Select(s => new IndexInput(s.Image.Key, s.Captions.Count > 0 ? s.Captions[0] : null, s.Image.Decode)).ToList();
        var source = EvalInputs.Labeled(labeled!, null, imageRoot, null);
        return source.Read().Select(s => new IndexInput(s.Image.Key, source.ClassNames[s.Label], s.Image.Decode)).ToList();
    }

    private static Command CreateInfo()
    {
        var index = new Option<string>("--index", "-i") { Description = "Index folder", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the manifest as JSON" };
        var command = new Command("info", "Show what an index holds and which model made it") { index, json };
        command.SetAction(r => CliErrors.Run(() =>
        {
            using var opened = ImageIndex.Open(r.GetValue(index)!);
            var m = opened.Manifest;
            if (r.GetValue(json)) { Console.WriteLine(JsonSerializer.Serialize(m with { Model = m.Model with { Probe = [] } }, SearchCommand.Json)); return 0; }
            Console.WriteLine($"index       {TerminalText.Escape(opened.Folder)}");
            Console.WriteLine($"images      {m.Count} ({opened.Skipped.Count} skipped inputs)");
            Console.WriteLine($"model       {TerminalText.Escape(m.Model.Name)} (config {m.Model.ConfigSha256[..12]}, {m.Model.ImageSize} px, {m.Model.DType})");
            Console.WriteLine($"vectors     {m.Dimensions} dimensions, L2-normalized, cosine");
            Console.WriteLine(m.Hnsw is { } h
                ? $"search      HNSW over {m.HnswCount} rows (M={h.Connectivity}, ef_add={h.ExpansionAdd}, ef={h.ExpansionSearch}, {h.Quantization}){(opened.HasApproximateIndex ? "" : "; behind: exact search until the next build")}"
                : "search      exact");
            return 0;
        }));
        return command;
    }

    private static Command CreateDedup()
    {
        var index = new Option<string>("--index", "-i") { Description = "Index folder", Required = true };
        var threshold = new Option<double>("--threshold", "-t") { Description = "Cosine similarity from which two images are duplicates", DefaultValueFactory = _ => 0.95 };
        var json = new Option<bool>("--json") { Description = "Print the groups as JSON" };
        var command = new Command("dedup", "Find groups of near-duplicate images") { index, threshold, json };
        command.SetAction(r => CliErrors.Run(() =>
        {
            using var opened = ImageIndex.Open(r.GetValue(index)!);
            var groups = opened.FindDuplicates(r.GetValue(threshold));
            if (r.GetValue(json)) { Console.WriteLine(JsonSerializer.Serialize(groups, SearchCommand.Json)); return 0; }
            foreach (var g in groups)
                Console.WriteLine($"{g.Rows.Count} images (similarity ≥ {g.MinLinkScore:F4}): {string.Join("  ", g.Items.Select(i => TerminalText.Escape(i.Key)))}");
            Console.WriteLine($"{groups.Count} groups, {groups.Sum(g => g.Rows.Count - 1)} images beyond the first of each, among {opened.Count}");
            return 0;
        }));
        return command;
    }
}
