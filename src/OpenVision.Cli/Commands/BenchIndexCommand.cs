using OpenVision.IO;
using System.CommandLine;
using System.Text.Json;
using OpenVision.Lab.Benchmarks.Search;
using OpenVision.Search;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision bench index [--sizes 10000 100000 1000000] [--dims 512 1024] [--queries 200] [--expansion-search 128 256]</c>:
/// build and query cost of exact and HNSW search, memory, file sizes and recall@10.</summary>
internal static class BenchIndexCommand
{
    public static Command Create()
    {
        var sizes = new Option<long[]>("--sizes") { Description = "Index sizes in vectors", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [10_000, 100_000, 1_000_000] };
        var dims = new Option<int[]>("--dims") { Description = "Vector lengths", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [512, 1024] };
        var queries = new Option<int>("--queries") { Description = "Queries per configuration", DefaultValueFactory = _ => 200 };
        var defaults = new HnswOptions();
        var connectivity = new Option<int>("--connectivity") { Description = "HNSW M", DefaultValueFactory = _ => defaults.Connectivity };
        var expansionAdd = new Option<int>("--expansion-add") { Description = "HNSW efConstruction", DefaultValueFactory = _ => defaults.ExpansionAdd };
        var expansionSearch = new Option<int[]>("--expansion-search", "--ef-search") { Description = "HNSW search expansion (ef); several values are measured on one built graph", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [defaults.ExpansionSearch] };
        var quantization = new Option<string>("--quantization") { Description = "f32, f16, bf16 or i8", DefaultValueFactory = _ => defaults.Quantization };
        var json = new Option<string?>("--json") { Description = "Also write the rows to this JSON file" };
        var command = new Command("index", "Measure index build and query speed, memory, file size and HNSW recall@10 on synthetic clustered vectors")
            { sizes, dims, queries, connectivity, expansionAdd, expansionSearch, quantization, json };
        command.SetAction(r => CliErrors.Run(() =>
        {
            OutputFiles.Check("--json", r.GetValue(json));
            if (r.GetValue(queries) < 1) throw new ArgumentException("--queries must be at least 1");
            var expansions = r.GetValue(expansionSearch)!;
            if (expansions.Length == 0 || expansions.Any(ef => ef < 1)) throw new ArgumentException("--expansion-search values must be at least 1");
            var options = new IndexBenchmarkOptions
            {
                Sizes = r.GetValue(sizes)!, Dimensions = r.GetValue(dims)!, Queries = r.GetValue(queries),
                Hnsw = new HnswOptions { Connectivity = r.GetValue(connectivity), ExpansionAdd = r.GetValue(expansionAdd), ExpansionSearch = expansions[0], Quantization = r.GetValue(quantization)! },
                SearchExpansions = expansions,
            };
            Console.WriteLine($"{Environment.ProcessorCount} cores; {options.Queries} queries per row; synthetic unit vectors around {options.Clusters} centres");
            Console.WriteLine(IndexBenchmarkResult.Header);
            var rows = IndexBenchmark.Run(options, new SyncProgress<string>(Console.WriteLine));
            if (r.GetValue(json) is { } path) AtomicFile.WriteAllText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return command;
    }
}
