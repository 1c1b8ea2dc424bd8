using System.Globalization;
using OpenVision.IO;
using OpenVision.Lab.Datasets;
using OpenVision.Search;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using TorchSharp;

namespace OpenVision.Lab.Benchmarks.Search;

/// <summary>End-to-end text→image retrieval on the Fashion-MNIST test split with a model such as the demo's. The split
/// is written as WebDataset shards by the demo's own converter (so each image carries the alt-text and generated
/// caption its training images are captioned with); the existing <see cref="RetrievalEvaluator"/> then scores
/// recall@1/5/10 both ways, and an index of the same shards, built by <see cref="ImageIndexBuilder"/> as
/// <c>openvision index build --data</c> does, is queried with class prompts and with every caption, exactly and
/// through its HNSW graph.</summary>
/// <remarks>Captions here name a class, not an image: a thousand images share each class and ~200 share each
/// alt-text, so a caption's own image being in its top 10 is nearly luck, and the evaluator's text→image recall is
/// low by construction. Class precision@10 through the index is the figure that says whether text finds the right
/// kind of image.</remarks>
public static class FashionMnistRetrievalBenchmark
{
    private const int K = 10;

    /// <summary>Runs the evaluation with <paramref name="encoder"/> (named <paramref name="modelName"/> in the index).</summary>
    public static FashionMnistRetrievalResult Run(OpenVisionEncoder encoder, string modelName, FashionMnistRetrievalOptions? options = null,
        IProgress<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        options ??= new FashionMnistRetrievalOptions();
        bool temporary = options.WorkFolder is null;
        string work = options.WorkFolder ?? ProcessTempFolder.Create("openvision-fmnist-retrieval");
        try
        {
            var test = FashionMnist.ReadTest(options.DataFolder);
            string shards = Path.Combine(work, "shards");
            var conversion = FashionMnistConverter.Convert(test, shards,
                new FashionMnistConversionOptions { Seed = options.Seed, Limit = options.Limit }, cancellationToken: cancellationToken);
            log?.Report($"test split: {conversion.Samples:N0} images in {conversion.Pattern}{(conversion.Reused ? " (reused)" : "")}");

            var evaluation = new RetrievalOptions { BatchSize = options.BatchSize };
            var altText = new RetrievalEvaluator(new WebDatasetCaptionSource(conversion.Pattern, "fashion-mnist-test"), evaluation).Evaluate(encoder, cancellationToken);
            log?.Report($"evaluator, alt-text captions: text→image R@10 {altText.TextToImage[10]:F4}, image→text R@10 {altText.ImageToText[10]:F4}");
            // No .recaption entry exists, so the source falls back to the JSON field of that name.
            var recaptionFields = new WebDatasetEvalFields { CaptionExtension = "recaption", CaptionJsonFields = ["recaption"] };
            var recaption = new RetrievalEvaluator(new WebDatasetCaptionSource(conversion.Pattern, "fashion-mnist-test", recaptionFields), evaluation).Evaluate(encoder, cancellationToken);
            log?.Report($"evaluator, recaptions: text→image R@10 {recaption.TextToImage[10]:F4}, image→text R@10 {recaption.ImageToText[10]:F4}");

            string indexFolder = Path.Combine(work, "index");
            if (Directory.Exists(indexFolder)) Directory.Delete(indexFolder, recursive: true);
            var inputs = new WebDatasetCaptionSource(conversion.Pattern).Read(cancellationToken)
                .Select(s => new IndexInput(s.Image.Key, s.Captions[0], s.Image.Decode));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var build = ImageIndexBuilder.Build(encoder, modelName, inputs, indexFolder,
                new IndexBuildOptions { Approximate = true, BatchSize = options.BatchSize, Hnsw = options.Hnsw }, cancellationToken: cancellationToken);
            double perSecond = build.Added / clock.Elapsed.TotalSeconds;     // decode, embed, write and the HNSW graph
            log?.Report($"index: {build.Total:N0} images at {perSecond:F0} images/s, HNSW over {build.HnswRows:N0}");

            using var index = ImageIndex.Open(indexFolder);
            var labels = index.Items.Select(item => (int)test.Labels[SplitIndex(item.Key)]).ToArray();
            var prompts = new List<(string Text, int Label, long? Own)>();
            for (int label = 0; label < FashionMnist.PromptNames.Count; label++)
                foreach (var template in options.Templates)
                    prompts.Add((template.Replace("{}", FashionMnist.PromptNames[label], StringComparison.Ordinal), label, null));
            var captions = index.Items.Select((item, row) => (item.Caption!, labels[row], (long?)row)).ToList();
            var quality = new[]
            {
                Measure($"class prompts ({options.Templates.Count} templates × 10 classes)", prompts, index, labels, encoder),
                Measure("alt-text captions (each image's own)", captions, index, labels, encoder),
            };
            return new FashionMnistRetrievalResult(modelName, altText.Images, altText, recaption, quality, perSecond, conversion.Pattern, indexFolder);
        }
        finally
        {
            if (temporary) Directory.Delete(work, recursive: true);
        }
    }

    private static IndexQueryQuality Measure(string name, IReadOnlyList<(string Text, int Label, long? Own)> queries, ImageIndex index, int[] labels, OpenVisionEncoder encoder)
    {
        using var scope = torch.NewDisposeScope();
        using var features = encoder.EncodeTexts(queries.Select(q => q.Text).ToList()).contiguous();
        var flat = features.data<float>().ToArray();
        int dims = (int)features.shape[1];
        double exactClass = 0, hnswClass = 0, overlap = 0;
        int exactOwn = 0, hnswOwn = 0;
        for (int i = 0; i < queries.Count; i++)
        {
            var query = flat.AsSpan(i * dims, dims);
            var exact = index.Search(query, K, SearchMode.Exact).Select(h => h.Row).ToArray();
            var approximate = index.Search(query, K, SearchMode.Approximate).Select(h => h.Row).ToArray();
            exactClass += exact.Count(r => labels[r] == queries[i].Label) / (double)K;
            hnswClass += approximate.Count(r => labels[r] == queries[i].Label) / (double)K;
            overlap += approximate.Count(exact.Contains) / (double)K;
            if (queries[i].Own is { } own)
            {
                if (exact.Contains(own)) exactOwn++;
                if (approximate.Contains(own)) hnswOwn++;
            }
        }
        int n = queries.Count;
        bool hasOwn = queries.Any(q => q.Own is not null);
        return new IndexQueryQuality(name, n, exactClass / n, hnswClass / n, hasOwn ? exactOwn / (double)n : null, hasOwn ? hnswOwn / (double)n : null, overlap / n);
    }

    /// <summary>The split index of a shard sample key ("dir/test-000000.tar:test-0001234" → 1234).</summary>
    private static int SplitIndex(string key)
    {
        int dash = key.LastIndexOf('-');
        return dash >= 0 && int.TryParse(key.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            ? index
            : throw new InvalidDataException($"{key}: not a Fashion-MNIST sample key (split-NNNNNNN)");
    }
}
