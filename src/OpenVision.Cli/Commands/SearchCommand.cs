using System.CommandLine;
using System.Text.Json;
using OpenVision.Search;
using OpenVision.Vision;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision search --index IDX --text "a red bicycle" | --image q.jpg [--top K] [--json]</c>.</summary>
internal static class SearchCommand
{
    public static readonly JsonSerializerOptions Json = new(IndexManifest.JsonOptions);

    public static Command Create()
    {
        var args = new ModelArguments();
        args.Model.Required = false;
        var index = new Option<string>("--index", "-i") { Description = "Index folder", Required = true };
        var text = new Option<string?>("--text") { Description = "Find images matching this text" };
        var image = new Option<string?>("--image") { Description = "Find images like this one" };
        var top = new Option<int>("--top", "-k") { Description = "Results to show", DefaultValueFactory = _ => 10 };
        var exact = new Option<bool>("--exact") { Description = "Score every image even when the index has an HNSW graph" };
        var json = new Option<bool>("--json") { Description = "Print results as JSON" };
        var expansion = new Option<int?>("--expansion-search", "--ef-search") { Description = "HNSW search expansion (ef) for this query: higher finds more of the true nearest images, slower (default: the index's own)" };
        var command = new Command("search", "Search an index by text or by image") { index, text, image, top, exact, json, expansion };
        args.AddTo(command);
        command.SetAction(r => CliErrors.Run(() =>
        {
            if ((r.GetValue(text) is null) == (r.GetValue(image) is null)) throw new ArgumentException("give either --text or --image");
            if (r.GetValue(top) < 1) throw new ArgumentException("--top must be at least 1");
            if (r.GetValue(expansion) < 1) throw new ArgumentException("--expansion-search must be at least 1");
            using var opened = ImageIndex.Open(r.GetValue(index)!, expansionSearch: r.GetValue(expansion));
            if (opened.Count == 0)
            {
                // Not an error (an interrupted first build leaves a valid index of nothing), but no results must not look like no matches.
                Console.Error.WriteLine($"openvision: {r.GetValue(index)}: the index holds no images; nothing to search");
                if (r.GetValue(json)) Console.WriteLine("[]");
                return 0;
            }
            string model = r.GetValue(args.Model) ?? opened.Manifest.Model.Name;
            using var encoder = LoadEncoder(args, r, model);
            opened.EnsureCompatible(ImageIndexBuilder.Fingerprint(encoder, model));
            using var query = r.GetValue(text) is { } t
                ? encoder.EncodeTexts([t])
                : encoder.EncodeImages([ImageDecoder.Decode(r.GetValue(image)!)]);
            var hits = opened.Search(query.data<float>().ToArray(), r.GetValue(top), r.GetValue(exact) ? SearchMode.Exact : SearchMode.Auto);
            if (r.GetValue(json)) { Console.WriteLine(JsonSerializer.Serialize(hits, Json)); return 0; }
            foreach (var (hit, rank) in hits.Select((h, i) => (h, i + 1)))
                Console.WriteLine($"{rank,3}  {hit.Score:F4}  {TerminalText.Escape(hit.Item.Key)}{(hit.Item.Caption is { } c ? $"  \"{TerminalText.Escape(c)}\"" : "")}");
            return 0;
        }));
        return command;
    }

    /// <summary>The query or build encoder: <paramref name="model"/> (the index's own model by default).</summary>
    public static OpenVisionEncoder LoadEncoder(ModelArguments args, ParseResult r, string model) => OpenVisionEncoder.Load(
        model,
        new ModelLoadOptions { DType = ModelArguments.ParseDType(r.GetValue(args.DType)!), RandomInit = r.GetValue(args.RandomInit) },
        r.GetValue(args.ImageSize));
}
