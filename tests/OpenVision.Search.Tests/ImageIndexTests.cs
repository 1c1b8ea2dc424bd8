using OpenVision.Tests;
using OpenVision.Tests.Parity;
using TorchSharp;

namespace OpenVision.Search.Tests;

/// <summary>Indexes of real images embedded by a reference model: what is stored is what <c>embed</c> computes,
/// searches score like a matrix product of those embeddings, interrupted builds resume without loss or duplicates,
/// and another model's queries are refused.</summary>
public sealed class ImageIndexTests : IDisposable
{
    private const string ModelName = "ovtest-mini-p16-64";
    private readonly string root = Directory.CreateTempSubdirectory("ov-index-").FullName;
    private readonly string imageFolder;
    private readonly List<string> goodImages;

    public ImageIndexTests()
    {
        imageFolder = Path.Combine(root, "images");
        Directory.CreateDirectory(imageFolder);
        string source = ReferenceData.Path("preprocess", "images");
        foreach (var name in new[] { "chelsea.png", "block.png", "camera.png", "horse.png", "rocket.jpg", "chelsea.webp", "green_palette.png", "chelsea_anim.gif", "wide_1000x12.png" })
            File.Copy(Path.Combine(source, name), Path.Combine(imageFolder, name));
        File.Copy(Path.Combine(source, "chelsea.png"), Path.Combine(imageFolder, "chelsea-copy.png"));
        File.WriteAllText(Path.Combine(imageFolder, "notes.png"), "this is text, not an image");
        goodImages = Pipelines.ImageFiles.Expand([imageFolder]).Where(p => !p.EndsWith("notes.png")).ToList();
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static OpenVisionEncoder Encoder() => OpenVisionEncoder.Load(ReferenceModels.Folder(ModelName));

    private List<IndexInput> Inputs() => Pipelines.ImageFiles.Expand([imageFolder]).Select(p => IndexInput.FromFile(p)).ToList();

    private string Build(OpenVisionEncoder encoder, string name, IndexBuildOptions? options = null)
    {
        string folder = Path.Combine(root, name);
        ImageIndexBuilder.Build(encoder, ModelName, Inputs(), folder, options ?? new IndexBuildOptions { BatchSize = 4 });
        return folder;
    }

    [Fact]
    public void StoresWhatEmbedComputesAndListsTheBadFile()
    {
        using var encoder = Encoder();
        using var index = ImageIndex.Open(Build(encoder, "a"));
        Assert.Equal(goodImages, index.Items.Select(i => i.Key));
        var bad = Assert.Single(index.Skipped);
        Assert.EndsWith("notes.png", bad.Key);
        Assert.Contains("notes.png", bad.Reason);
        using var expected = encoder.EncodeImageFiles(goodImages);
        for (int i = 0; i < goodImages.Count; i++)
        {
            var want = expected[i].data<float>().ToArray();
            var got = index.Vector(i);
            for (int d = 0; d < want.Length; d++) Assert.Equal(want[d], got[d], 1e-6f);
        }
    }

    [Fact]
    public void TextAndImageQueriesScoreAsTheDotProductOfEmbeddings()
    {
        using var encoder = Encoder();
        using var index = ImageIndex.Open(Build(encoder, "a"));
        using var features = encoder.EncodeImageFiles(goodImages);
        using var text = encoder.EncodeTexts(["a photo of a cat"]);
        using var scores = features.matmul(text[0]);                       // [N]
        var expected = scores.data<float>().ToArray();
        var hits = index.Search(text[0].data<float>().ToArray(), k: goodImages.Count, SearchMode.Exact);
        Assert.Equal(goodImages.Count, hits.Count);
        for (int i = 0; i < hits.Count; i++) Assert.Equal(expected[hits[i].Row], hits[i].Score, 1e-5f);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "hits are not sorted");

        int chelsea = goodImages.FindIndex(p => p.EndsWith("/chelsea.png"));
        var like = index.Search(index.Vector(chelsea), k: 2, SearchMode.Exact);
        Assert.Equal(new[] { "chelsea-copy.png", "chelsea.png" }, like.Select(h => Path.GetFileName(h.Item.Key)).Order());
        Assert.All(like, h => Assert.True(h.Score > 0.9999f, $"{h.Item.Key}: {h.Score}"));
    }

    [Fact]
    public void InterruptedBuildResumesWithNothingLostOrDuplicated()
    {
        using var encoder = Encoder();
        string reference = Build(encoder, "whole");
        string folder = Path.Combine(root, "resumed");
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(_ => cancel.Cancel());               // cancel as the first batch commits
        Assert.Throws<OperationCanceledException>(() =>
            ImageIndexBuilder.Build(encoder, ModelName, Inputs(), folder, new IndexBuildOptions { BatchSize = 4 }, progress, cancel.Token));
        using (var partial = ImageIndex.Open(folder)) Assert.Equal(4, partial.Count);
        // A kill in the middle of the next batch: rows written but not committed.
        File.AppendAllText(Path.Combine(folder, "items.jsonl"), "{\"key\":\"half-written\"");
        using (var vectors = new FileStream(Path.Combine(folder, "vectors.f32"), FileMode.Append)) vectors.Write(new byte[1000]);

        var report = ImageIndexBuilder.Build(encoder, ModelName, Inputs(), folder, new IndexBuildOptions { BatchSize = 4 });
        Assert.Equal(4, report.AlreadyIndexed);
        using var resumed = ImageIndex.Open(folder);
        using var whole = ImageIndex.Open(reference);
        Assert.Equal(whole.Items.Select(i => i.Key), resumed.Items.Select(i => i.Key));
        // Batched differently (4 against the default), so the sums may run in another order where libtorch computes
        // the blocks (CPUs without AVX2): equal within 1e-5, where float32 parity with the reference holds 9e-7; a
        // lost, shifted or zero-filled row is off by order 1.
        for (int i = 0; i < whole.Count; i++)
        {
            using var expected = torch.tensor(whole.Vector(i));
            using var actual = torch.tensor(resumed.Vector(i));
            Tolerance.AssertClose(actual, expected, 1e-5, $"item {i}");
        }
        Assert.Single(resumed.Skipped);
    }

    [Fact]
    public void AddEmbedsOnlyNewImages()
    {
        using var encoder = Encoder();
        string folder = Path.Combine(root, "grown");
        var first = Inputs().Take(5).ToList();
        ImageIndexBuilder.Build(encoder, ModelName, first, folder);
        var report = ImageIndexBuilder.Build(encoder, ModelName, Inputs(), folder);
        Assert.Equal(5, report.AlreadyIndexed);
        Assert.Equal(goodImages.Count, report.Total);
        Assert.Equal(goodImages.Count - first.Count(i => !i.Key.EndsWith("notes.png")), report.Added);
    }

    [Fact]
    public void AnotherModelOrOtherWeightsAreRefused()
    {
        using var encoder = Encoder();
        string folder = Build(encoder, "a");
        using var index = ImageIndex.Open(folder);
        index.EnsureCompatible(ImageIndexBuilder.Fingerprint(encoder, ModelName));          // the same model passes

        using var other = OpenVisionEncoder.Load(ReferenceModels.Folder("ovtest-mini-p8-40"));
        var e = Assert.Throws<IndexModelMismatchException>(() => index.EnsureCompatible(ImageIndexBuilder.Fingerprint(other, "p8")));
        Assert.Contains("config", e.Message);

        // Same architecture, other weights: only the probe embedding can tell.
        torch.manual_seed(7);
        using var random = OpenVisionEncoder.FromModel(ModelFactory.Create(encoder.Config));
        e = Assert.Throws<IndexModelMismatchException>(() => index.EnsureCompatible(ImageIndexBuilder.Fingerprint(random, ModelName)));
        Assert.Contains("other weights", e.Message);
        Assert.Throws<IndexModelMismatchException>(() => ImageIndexBuilder.Build(random, ModelName, Inputs(), folder));
    }

    [Fact]
    public void ApproximateSearchFindsWhatExactSearchFinds()
    {
        using var encoder = Encoder();
        string folder = Build(encoder, "hnsw", new IndexBuildOptions { Approximate = true });
        using var index = ImageIndex.Open(folder);
        Assert.True(index.HasApproximateIndex);
        Assert.True(File.Exists(Path.Combine(folder, "hnsw.usearch")));
        for (int i = 0; i < index.Count; i++)
        {
            var exact = index.Search(index.Vector(i), 3, SearchMode.Exact);
            var approximate = index.Search(index.Vector(i), 3, SearchMode.Approximate);
            Assert.Equal(exact[0].Score, approximate[0].Score, 2e-3f);              // f16 storage
            Assert.Equal(exact.Select(h => h.Row).Order(), approximate.Select(h => h.Row).Order());
        }
        using var plain = ImageIndex.Open(Build(encoder, "plain"));
        Assert.False(plain.HasApproximateIndex);
        Assert.Null(plain.ExpansionSearch);
        Assert.Throws<InvalidOperationException>(() => plain.Search(plain.Vector(0), 1, SearchMode.Approximate));
    }

    [Fact]
    public void TheSearchExpansionIsTheBuildsUnlessTheOpenerChoosesOne()
    {
        using var encoder = Encoder();
        string folder = Build(encoder, "ef", new IndexBuildOptions { Approximate = true, Hnsw = new HnswOptions { ExpansionSearch = 40 } });
        using (var stored = ImageIndex.Open(folder)) Assert.Equal(40, stored.ExpansionSearch);
        using (var chosen = ImageIndex.Open(folder, expansionSearch: 7))
        {
            Assert.Equal(7, chosen.ExpansionSearch);
            Assert.Equal(40, chosen.Manifest.Hnsw!.ExpansionSearch);      // the choice lasts for this session only
            Assert.Equal(1f, chosen.Search(chosen.Vector(2), 1, SearchMode.Approximate)[0].Score, 2e-3f);   // f16 storage
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageIndex.Open(folder, expansionSearch: 0));
    }

    [Fact]
    public void AFirstSearchInsideTheCallersDisposeScopeLeavesTheIndexUsable()
    {
        using var encoder = Encoder();
        using var index = ImageIndex.Open(Build(encoder, "scoped"));
        float[] query;
        float inside;
        using (torch.NewDisposeScope())       // the first read of the vectors happens in here
        {
            query = index.Vector(1);
            inside = index.Search(query, 1, SearchMode.Exact)[0].Score;
        }
        Assert.Equal(inside, index.Search(query, 1, SearchMode.Exact)[0].Score);
    }

    [Fact]
    public void DuplicatesAreGroupedAndDistinctImagesAreNot()
    {
        using var encoder = Encoder();
        using var index = ImageIndex.Open(Build(encoder, "a"));
        var groups = index.FindDuplicates(0.9999);
        var group = Assert.Single(groups);
        Assert.Equal(new[] { "chelsea-copy.png", "chelsea.png" }, group.Items.Select(i => Path.GetFileName(i.Key)).Order());
        Assert.True(group.MinLinkScore >= 0.9999f);
        Assert.Throws<ArgumentOutOfRangeException>(() => index.FindDuplicates(1.5));
    }

    [Fact]
    public void DamagedIndexFailsNamingTheFile()
    {
        using var encoder = Encoder();
        string folder = Build(encoder, "a");
        using (var vectors = new FileStream(Path.Combine(folder, "vectors.f32"), FileMode.Open)) vectors.SetLength(100);
        var e = Assert.Throws<IndexFormatException>(() => ImageIndex.Open(folder));
        Assert.Contains("vectors.f32", e.Message);
        File.WriteAllText(Path.Combine(folder, "manifest.json"), "{ not json");
        e = Assert.Throws<IndexFormatException>(() => ImageIndex.Open(folder));
        Assert.Contains("manifest.json", e.Message);
        Assert.Throws<IndexFormatException>(() => ImageIndex.Open(root));
    }

    [Fact]
    public void ANonFiniteVectorIsRefusedNamingTheFileAndRow()
    {
        using var encoder = Encoder();
        string folder = Build(encoder, "nan");
        int dimensions = encoder.Config.EmbedDim;
        // Row 1's first two floats become NaN (0x7fc00000, little-endian): the damage a bad disk or a stray write leaves.
        using (var vectors = new FileStream(Path.Combine(folder, "vectors.f32"), FileMode.Open))
        {
            vectors.Position = dimensions * sizeof(float);
            vectors.Write([0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0xc0, 0x7f]);
        }
        var query = new float[dimensions];
        query[0] = 1;
        using (var index = ImageIndex.Open(folder))
        {
            var e = Assert.Throws<IndexFormatException>(() => index.Search(query, 4, SearchMode.Exact));
            Assert.Equal($"{Path.Combine(folder, "vectors.f32")}: row 1 holds a non-finite value (NaN); the file is damaged", e.Message);
        }
        // Building the HNSW graph reads the same rows and must not take the NaN into the graph either.
        var build = Assert.Throws<IndexFormatException>(() => ImageIndexBuilder.Build(encoder, ModelName, Inputs(), folder, new IndexBuildOptions { BatchSize = 4, Approximate = true }));
        Assert.Contains("vectors.f32: row 1 holds a non-finite value", build.Message);
    }

    private sealed class SyncProgress(Action<Pipelines.ProgressReport> action) : IProgress<Pipelines.ProgressReport>
    {
        public void Report(Pipelines.ProgressReport value) => action(value);
    }
}
