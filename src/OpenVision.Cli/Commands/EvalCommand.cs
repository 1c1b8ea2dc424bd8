using System.CommandLine;
using System.Globalization;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Training.Evaluation.LinearModels;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision eval zeroshot|retrieval|linear-probe --model M --data … [--output results.json]</c>:
/// benchmark numbers in CLIP_benchmark's JSON schema plus a Markdown table.</summary>
internal static class EvalCommand
{
    public static Command Create() => new("eval", "Evaluate a model: zero-shot classification, image-text retrieval, linear probe")
    {
        ZeroShot(), Retrieval(), LinearProbe(),
    };

    // The options every eval subcommand shares.
    private sealed class Common
    {
        public ModelArguments Model { get; } = new();
        public Option<string> Data { get; } = new("--data", "-d", "--shards")
        {
            Description = "Data set: folder of class folders, WebDataset shards ('dir/test-{000000..000003}.tar', class in .cls; captions in .txt for retrieval), .csv/.tsv (path,label), IDX images file, or a caption manifest for retrieval",
            Required = true,
        };
        public Option<string?> Output { get; } = new("--output", "-o") { Description = "results.json (CLIP_benchmark schema); results.md and a confusion PNG are written next to it" };
        public Option<string> Resize { get; } = new("--resize") { Description = "model (config's transform), squash, shortest, or paper (the JAX resize-shorter-side + centre crop)", DefaultValueFactory = _ => "model" };
        public Option<int> BatchSize { get; } = new("--batch-size", "-b") { Description = "Images per model call", DefaultValueFactory = _ => 64 };
        public Option<string?> ImageRoot { get; } = new("--image-root") { Description = "Folder for relative image paths in CSV files and manifests (default: the file's folder)" };
        public Option<string?> DatasetName { get; } = new("--dataset-name") { Description = "Name written in the results (default: from the data path)" };

        public void AddTo(Command command)
        {
            Model.AddTo(command);
            foreach (var option in new Option[] { Data, Output, Resize, BatchSize, ImageRoot, DatasetName }) command.Add(option);
        }

        /// <summary>Refuses an output the evaluation could not write before it runs (results.md and the confusion PNG
        /// go beside results.json).</summary>
        public void CheckOutputs(ParseResult r, Option<string?>? confusion = null)
        {
            OutputFiles.Check("--output", r.GetValue(Output));
            if (confusion is not null) OutputFiles.Check("--confusion", r.GetValue(confusion));
        }

        public int CheckedBatchSize(ParseResult r) =>
            r.GetValue(BatchSize) is var b and >= 1 ? b : throw new ArgumentException("--batch-size must be at least 1");
    }

    private static Command ZeroShot()
    {
        var common = new Common();
        var classNames = new Option<string?>("--classnames", "--class-names") { Description = "Class names: a file (one per line, label order), imagenet or fashion-mnist; default from the data (shards: classnames.txt beside them)" };
        var templates = new Option<string>("--templates") { Description = "Prompt templates: clip (81, OpenVision's), identity, or a file with {} per line", DefaultValueFactory = _ => "clip" };
        var noCanonicalize = new Option<bool>("--no-canonicalize") { Description = "Use names and templates verbatim (OpenVision canonicalises them)" };
        var confusion = new Option<string?>("--confusion") { Description = "Confusion matrix PNG (≤100 classes); default OUTPUT.confusion.png" };
        var command = new Command("zeroshot", "Zero-shot classification (top-1, top-5, per-class recall, confusion matrix)") { classNames, templates, noCanonicalize, confusion };
        common.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            common.CheckOutputs(r, confusion);
            var options = new ZeroShotOptions
            {
                Templates = EvalInputs.Templates(r.GetValue(templates)!),
                Canonicalize = !r.GetValue(noCanonicalize),
                Resize = EvalInputs.Resize(r.GetValue(common.Resize)!),
                BatchSize = common.CheckedBatchSize(r),
            };
            var source = EvalInputs.Labeled(r.GetValue(common.Data)!, r.GetValue(classNames), r.GetValue(common.ImageRoot), r.GetValue(common.DatasetName));
            using var model = common.Model.LoadEncoder(r);
            using var progress = new EvalProgress();
            var report = new ZeroShotEvaluator(source, options with { Progress = progress }).Evaluate(model);
            progress.Dispose();
            string? output = r.GetValue(common.Output);
            EvalInputs.WriteResult(report.ToResult(), output, report.Skipped);
            EvalInputs.WriteThroughput("image loop", report.Throughput);
            EvalInputs.WriteConfusion(report.Tally, report.ClassNames, $"{report.Dataset} zero-shot, top-1 {Percent(report.Top1)}", r.GetValue(confusion), output);
            return 0;
        }));
        return command;
    }

    private static Command Retrieval()
    {
        var common = new Common();
        var ks = new Option<int[]>("--k") { Description = "k values of recall@k", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [1, 5, 10] };
        var command = new Command("retrieval", "Image-text retrieval recall@k (COCO / Flickr30k protocol) over a caption manifest (.jsonl, .json, .csv) or WebDataset shards") { ks };
        common.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            common.CheckOutputs(r);
            var options = new RetrievalOptions { Ks = r.GetValue(ks)!, Resize = EvalInputs.Resize(r.GetValue(common.Resize)!), BatchSize = common.CheckedBatchSize(r) };
            var source = EvalInputs.Captioned(r.GetValue(common.Data)!, r.GetValue(common.ImageRoot), r.GetValue(common.DatasetName));
            using var model = common.Model.LoadEncoder(r);
            using var progress = new EvalProgress();
            var report = new RetrievalEvaluator(source, options with { Progress = progress }).Evaluate(model);
            progress.Dispose();
            EvalInputs.WriteResult(report.ToResult(), r.GetValue(common.Output), report.Skipped);
            EvalInputs.WriteThroughput("image loop", report.Throughput);
            return 0;
        }));
        return command;
    }

    private static Command LinearProbe()
    {
        var common = new Common();
        var testData = new Option<string>("--test-data", "--test-shards") { Description = "Test split (same formats as --data, which is the training split)", Required = true };
        var classNames = new Option<string?>("--classnames", "--class-names") { Description = "Class names: a file, imagenet or fashion-mnist; default from the data (shards: classnames.txt beside them)" };
        var kShot = new Option<int?>("--k-shot") { Description = "Few-shot: train on K samples per class" };
        var seed = new Option<int>("--seed") { Description = "Seed of the few-shot draw and the validation split", DefaultValueFactory = _ => 0 };
        var validation = new Option<double>("--val-fraction") { Description = "Fraction of each class held out to choose λ", DefaultValueFactory = _ => 0.2 };
        var l2 = new Option<double[]?>("--l2") { Description = "λ values to sweep (default 1e-6 … 1e2, one per decade)", AllowMultipleArgumentsPerToken = true };
        var cache = new Option<string?>("--cache") { Description = "Feature cache folder (repeat probes skip the encoder)" };
        var maxIterations = new Option<int>("--max-iter") { Description = "L-BFGS iterations per fit", DefaultValueFactory = _ => 1000 };
        var standardize = new Option<bool>("--standardize") { Description = "Standardise feature dimensions after L2 normalisation (not CLIP's protocol)" };
        var confusion = new Option<string?>("--confusion") { Description = "Confusion matrix PNG (≤100 classes); default OUTPUT.confusion.png" };
        var command = new Command("linear-probe", "Linear probe: logistic regression on frozen features, λ chosen on a validation split")
        {
            testData, classNames, kShot, seed, validation, l2, cache, maxIterations, standardize, confusion,
        };
        common.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            common.CheckOutputs(r, confusion);
            if (r.GetValue(kShot) is < 1) throw new ArgumentException("--k-shot must be at least 1");
            if (r.GetValue(maxIterations) < 1) throw new ArgumentException("--max-iter must be at least 1");
            var options = new LinearProbeOptions
            {
                KShot = r.GetValue(kShot),
                Seed = r.GetValue(seed),
                ValidationFraction = r.GetValue(validation),
                L2Grid = r.GetValue(l2) is { Length: > 0 } grid ? grid : L2Sweep.LogGrid(),
                CacheFolder = r.GetValue(cache),
                Standardize = r.GetValue(standardize),
                Solver = new LbfgsOptions { MaxIterations = r.GetValue(maxIterations) },
                Resize = EvalInputs.Resize(r.GetValue(common.Resize)!),
                BatchSize = common.CheckedBatchSize(r),
            };
            string? names = r.GetValue(classNames), root = r.GetValue(common.ImageRoot), name = r.GetValue(common.DatasetName);
            var train = EvalInputs.Labeled(r.GetValue(common.Data)!, names, root, name is null ? null : name + "-train");
            var test = EvalInputs.Labeled(r.GetValue(testData)!, names, root, name);
            using var model = common.Model.LoadEncoder(r);
            using var progress = new EvalProgress();
            var report = new LinearProbeEvaluator(train, test, options with { Progress = progress }).Evaluate(model);
            progress.Dispose();
            string? output = r.GetValue(common.Output);
            EvalInputs.WriteResult(report.ToResult(), output, [.. report.SkippedTrain, .. report.SkippedTest]);
            EvalInputs.WriteThroughput("image loop (train)", report.Throughput.Train);
            EvalInputs.WriteThroughput("image loop (test)", report.Throughput.Test);
            string shots = report.KShot is { } k ? $"{k}-shot " : "";
            EvalInputs.WriteConfusion(report.Tally, report.ClassNames, $"{report.Dataset} {shots}linear probe, top-1 {Percent(report.Top1)}", r.GetValue(confusion), output);
            Console.WriteLine(report.Sweep.Count == 0
                ? $"λ = {report.L2.ToString("0.###e+0", CultureInfo.InvariantCulture)} (no validation split possible: fallback)"
                : $"λ = {report.L2.ToString("0.###e+0", CultureInfo.InvariantCulture)} chosen on {report.ValidationCount} validation samples");
            return 0;
        }));
        return command;
    }

    private static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
