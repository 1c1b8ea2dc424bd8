using OpenVision.IO;
using System.CommandLine;
using System.Text.Json;
using OpenVision.Lab.Benchmarks.Search;
using OpenVision.Search;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench retrieval --model M [--work DIR]</c>: end-to-end text→image retrieval on the
/// Fashion-MNIST test split through the retrieval evaluator and through an index (exact and HNSW).</summary>
internal static class BenchRetrievalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model folder or name (e.g. the demo's, /work/demo/model after ./scripts/demo.sh)", Required = true };
        var data = new Option<string?>("--fashion-mnist") { Description = "Folder with the Fashion-MNIST IDX files (default: $OPENVISION_FASHION_MNIST, then /usr/share/datasets/fashion-mnist)" };
        var work = new Option<string?>("--work") { Description = "Keep the test shards and the index here (to query them with 'openvision search'); default: a temporary folder" };
        var limit = new Option<int?>("--limit") { Description = "Only the first N test images" };
        var expansion = new Option<int>("--expansion-search", "--ef-search") { Description = "HNSW search expansion (ef) of the index", DefaultValueFactory = _ => new HnswOptions().ExpansionSearch };
        var json = new Option<string?>("--json") { Description = "Also write the figures to this JSON file" };
        var command = new Command("retrieval", "Text→image retrieval on Fashion-MNIST's 10,000 test images: the retrieval evaluator's recall@k and class precision@10 through an index")
            { model, data, work, limit, expansion, json };
        command.SetAction(r => CliErrors.Run(() =>
        {
            OutputFiles.Check("--json", r.GetValue(json));
            if (r.GetValue(limit) < 1) throw new ArgumentException("--limit must be at least 1");
            if (r.GetValue(expansion) < 1) throw new ArgumentException("--expansion-search must be at least 1");
            string name = r.GetValue(model)!;
            using var encoder = OpenVisionEncoder.Load(name);
            var options = new FashionMnistRetrievalOptions
            {
                DataFolder = r.GetValue(data), WorkFolder = r.GetValue(work), Limit = r.GetValue(limit),
                Hnsw = new HnswOptions { ExpansionSearch = r.GetValue(expansion) },
            };
            var result = FashionMnistRetrievalBenchmark.Run(encoder, name, options, new SyncProgress<string>(Console.WriteLine));
            Console.WriteLine();
            Console.Write(result.ToMarkdown());
            if (r.GetValue(json) is { } path)
                AtomicFile.WriteAllText(path, JsonSerializer.Serialize(result with { AltText = result.AltText with { Skipped = [] }, Recaption = result.Recaption with { Skipped = [] } },
                    new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return command;
    }
}
