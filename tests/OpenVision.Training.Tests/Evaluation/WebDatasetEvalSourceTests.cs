using System.Text;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;
using static OpenVision.Training.Tests.Evaluation.FakeEncoder;
using static OpenVision.Training.Tests.Evaluation.FakeSamples;

namespace OpenVision.Training.Tests.Evaluation;

/// <summary>WebDataset shards as evaluation data, written as real tar files by the training module's writer and
/// read back through the evaluators with hand-written embeddings.</summary>
public class WebDatasetEvalSourceTests : IDisposable
{
    private static readonly string[] Classes = ["cat", "dog", "bird"];
    private readonly string folder = FakeSamples.TempFolder();

    public void Dispose() => Directory.Delete(folder, true);

    // Three shards of three samples, then a fourth shard (another name, joined with "::") cut inside its second image.
    //   s0 png .cls "2"            → bird        s3 png .json {"label": 1} → dog      s6 png, no class       ✗
    //   s1 png .class "dog"        → dog         s4 not a PNG, .cls "0"    ✗ decode   s7 png .cls "7"        ✗ range
    //   s2 jpg .label "Cat"        → cat         s5 .cls "1", no image     ✗          s8 png .json {"class": "cat"} → cat
    //   t0 png .cls "1"            → dog         t1 .cls "2", png cut off  ✗ no image, and the break itself ✗
    private string WriteShards()
    {
        using (var writer = new WebDatasetWriter(folder, "eval", 3))
        {
            writer.Write("s0", Files(("png", PngOf("s0")), ("cls", Text("2"))));
            writer.Write("s1", Files(("png", PngOf("s1")), ("class", Text("dog"))));
            writer.Write("s2", Files(("jpg", File.ReadAllBytes(ReferenceFiles.Image("chelsea_q90_444.jpg"))), ("label", Text(" Cat\n"))));
            writer.Write("s3", Files(("png", PngOf("s3")), ("json", Text("{\"label\": 1, \"caption\": \"ignored\"}"))));
            writer.Write("s4", Files(("png", Text("this is not a PNG")), ("cls", Text("0"))));
            writer.Write("s5", Files(("cls", Text("1"))));
            writer.Write("s6", Files(("png", PngOf("s6"))));
            writer.Write("s7", Files(("png", PngOf("s7")), ("cls", Text("7"))));
            writer.Write("s8", Files(("png", PngOf("s8")), ("json", Text("{\"class\": \"cat\"}"))));
        }
        string broken;
        using (var writer = new WebDatasetWriter(folder, "tail", 10))
        {
            writer.Write("t0", Files(("png", PngOf("t0")), ("cls", Text("1"))));
            writer.Write("t1", Files(("png", NoisePng()), ("cls", Text("2"))));
            writer.Flush();
            broken = writer.Shards[0];
        }
        // Cut 100 bytes into t1.png's data: its header (512 bytes) starts where its name is stored.
        byte[] tar = File.ReadAllBytes(broken);
        int header = IndexOf(tar, "t1.png"u8.ToArray());
        File.WriteAllBytes(broken, tar[..(header + 512 + 100)]);
        return $"{Path.Combine(folder, "eval-{000000..000002}.tar")}::{broken}";
    }

    [Fact]
    public void ShardsStreamImagesWithTheirClassesAndSkipWhatCannotBeUsed()
    {
        var source = new WebDatasetLabeledSource(WriteShards(), Classes, "toy-shards");
        Assert.Equal(4, source.Shards.Count);
        Assert.Null(source.Count);
        Assert.NotNull(source.Fingerprint);

        var stream = new SampleBatchStream(new ImageTransform(new ImageTransformOptions { ImageSize = 4 }), batchSize: 4);
        var batches = stream.Read(source.Read(), s => s.Image).ToList();
        try
        {
            var kept = batches.SelectMany(b => b.Items).Select(i => (Tail(i.Image.Key), i.Label)).ToList();
            Assert.Equal([("s0", 2), ("s1", 1), ("s2", 0), ("s3", 1), ("s8", 0), ("t0", 1)], kept);
            var skipped = batches.SelectMany(b => b.Skipped).ToList();
            Assert.Equal(6, skipped.Count);
            Assert.Contains(skipped, s => Tail(s.Path) == "s4" && s.Reason.Contains("eval-000001.tar:s4.png"));    // the decoder names the member
            Assert.Contains(skipped, s => Tail(s.Path) == "s5" && s.Reason.Contains("no image"));
            Assert.Contains(skipped, s => Tail(s.Path) == "s6" && s.Reason.Contains("no class"));
            Assert.Contains(skipped, s => Tail(s.Path) == "s7" && s.Reason.Contains("class 7 is outside 0..2"));
            Assert.Contains(skipped, s => Tail(s.Path) == "t1" && s.Reason.Contains("no image"));
            Assert.Contains(skipped, s => s.Path.EndsWith("tail-000000.tar", StringComparison.Ordinal) && s.Reason.Contains(nameof(SkipReason.TruncatedShard)));
        }
        finally { foreach (var b in batches) b.Dispose(); }

        // The image bytes are the stored ones: s0 decodes to its own pixels.
        var first = source.Read().First();
        Assert.Equal(Path.Combine(folder, "eval-000000.tar") + ":s0", first.Image.Key);
        var image = first.Image.Decode();
        Assert.Equal((ImageMode.Rgb, 2, 2), (image.Mode, image.Width, image.Height));
        Assert.Equal(ImageOf("s0").Pixels, image.Pixels);
    }

    // Class weights (template "{}"): cat = e0, dog = e1, bird = e2. Predictions:
    //   s0 bird: e2 → bird ✓   s1 dog: e0 → cat ✗ (dog second)   s2 cat: e0 + .2 e2 → cat ✓
    //   s3 dog: e1 → dog ✓     s8 cat: e0 + .5 e1 → cat ✓        t0 dog: e2 + .1 e1 → bird ✗
    // Top-1 4/6; per class: cat 2/2, dog 1/3, bird 1/1.
    [Fact]
    public void ZeroShotOverShardsEqualsTheHandComputation()
    {
        var encoder = new FakeEncoder(
            new Dictionary<string, double[]>
            {
                ["s0"] = E(3, (2, 1)), ["s1"] = E(3, (0, 1)), ["s2"] = E(3, (0, 1), (2, 0.2)),
                ["s3"] = E(3, (1, 1)), ["s8"] = E(3, (0, 1), (1, 0.5)), ["t0"] = E(3, (2, 1), (1, 0.1)),
            },
            new Dictionary<string, double[]> { ["cat"] = E(3, (0, 1)), ["dog"] = E(3, (1, 1)), ["bird"] = E(3, (2, 1)) })
        { Pictures = { ["s2"] = ImageDecoder.Decode(ReferenceFiles.Image("chelsea_q90_444.jpg")) } };
        var source = new WebDatasetLabeledSource(WriteShards(), Classes, "toy-shards");
        var report = new ZeroShotEvaluator(source, new ZeroShotOptions { Templates = ["{}"], BatchSize = 4 }).Evaluate(encoder);

        Assert.Equal(6, report.Tally.Samples);
        Assert.Equal(4.0 / 6, report.Top1);
        Assert.Equal([1.0, 1.0 / 3, 1.0], report.Tally.PerClassRecall().Select(r => r!.Value));
        Assert.Equal(6, report.Skipped.Count);
        Assert.Equal(6, report.Throughput!.Images);
        Assert.Equal(6, report.ToResult()["num_skipped"]);
    }

    [Fact]
    public void LinearProbeCachesShardFeaturesByTheShardFiles()
    {
        // Training shards: class c on axis c, two samples each; test shard: one per class, nearer the other axes.
        var images = new Dictionary<string, double[]>();
        using (var writer = new WebDatasetWriter(folder, "train", 4))
            for (int i = 0; i < 6; i++)
            {
                writer.Write($"a{i}", Files(("png", PngOf($"a{i}")), ("cls", Text((i % 3).ToString()))));
                images[$"a{i}"] = E(3, (i % 3, 1), ((i + 1) % 3, 0.1 * (i / 3)));
            }
        using (var writer = new WebDatasetWriter(folder, "test", 4))
            for (int c = 0; c < 3; c++)
            {
                writer.Write($"b{c}", Files(("png", PngOf($"b{c}")), ("cls", Text(Classes[c]))));
                images[$"b{c}"] = E(3, (c, 1), ((c + 2) % 3, 0.3));
            }
        var encoder = new FakeEncoder(images, new Dictionary<string, double[]>());
        var train = new WebDatasetLabeledSource(Path.Combine(folder, "train-{000000..000001}.tar"), Classes);
        var test = new WebDatasetLabeledSource(Path.Combine(folder, "test-000000.tar"), Classes);
        string cache = Path.Combine(folder, "cache");
        var options = new LinearProbeOptions { CacheFolder = cache, ValidationFraction = 0, FallbackL2 = 1e-3 };

        var first = new LinearProbeEvaluator(train, test, options).Evaluate(encoder);
        Assert.Equal(1.0, first.Top1);
        Assert.Equal((6L, 3L), (first.Throughput.Train!.Images, first.Throughput.Test!.Images));
        int calls = encoder.ImageCalls;
        var second = new LinearProbeEvaluator(train, test, options).Evaluate(encoder);
        Assert.Equal((true, true), second.FromCache);
        Assert.Equal(calls, encoder.ImageCalls);

        // Rewriting a shard changes its fingerprint: the features are encoded again.
        string before = train.Fingerprint!;
        File.SetLastWriteTimeUtc(train.Shards[1], DateTime.UtcNow.AddMinutes(1));
        var changed = new WebDatasetLabeledSource(Path.Combine(folder, "train-{000000..000001}.tar"), Classes);
        Assert.NotEqual(before, changed.Fingerprint);
        Assert.Equal((false, true), new LinearProbeEvaluator(changed, test, options).Evaluate(encoder).FromCache);
    }

    [Fact]
    public void RetrievalOverShardsEqualsTheManifestHandComputation()
    {
        // The samples of RetrievalEvaluatorTests, stored as shards: captions as .txt lines or a .json field.
        using (var writer = new WebDatasetWriter(folder, "caps", 2))
        {
            writer.Write("I0", Files(("png", PngOf("I0")), ("txt", Text("t0\nt1\n"))));
            writer.Write("I1", Files(("png", PngOf("I1")), ("json", Text("{\"captions\": [\"t2\"]}"))));
            writer.Write("I9", Files(("png", Text("broken")), ("txt", Text("never encoded"))));
            writer.Write("I2", Files(("png", PngOf("I2")), ("txt", Text("t3\r\n\r\nt4"))));
            writer.Write("I3", Files(("jpg", PngOf("I3")), ("json", Text("{\"caption\": \"t5\"}"))));   // a PNG under .jpg decodes by content
            writer.Write("I7", Files(("png", PngOf("I7"))));                                               // no caption
        }
        var source = new WebDatasetCaptionSource(Path.Combine(folder, "caps-{000000..000002}.tar"), "toy-caption-shards");
        var encoder = RetrievalEvaluatorTests.Encoder();
        var report = new RetrievalEvaluator(source, new RetrievalOptions { Ks = [1, 2, 3], BatchSize = 2 })
            .Evaluate(new FakeEncoder(encoder.ImagesTable, encoder.TextsTable));

        Assert.Equal(2 / 4.0, report.ImageToText[1]);
        Assert.Equal(1.0, report.ImageToText[2]);
        Assert.Equal(2 / 6.0, report.TextToImage[1]);
        Assert.Equal(5 / 6.0, report.TextToImage[2]);
        Assert.Equal((4, 6), (report.Images, report.Texts));
        Assert.Equal(["I7", "I9"], report.Skipped.Select(s => Tail(s.Path)).Order());
        Assert.Contains(report.Skipped, s => Tail(s.Path) == "I7" && s.Reason.Contains("no caption"));
    }

    [Fact]
    public void ClipBenchmarkLayoutGivesClassNamesAndName()
    {
        // CLIP_benchmark: root/classnames.txt, root/test/0.tar, …
        string test = Path.Combine(folder, "cifar3", "test");
        Directory.CreateDirectory(test);
        File.WriteAllLines(Path.Combine(folder, "cifar3", WebDatasetLabeledSource.ClassNamesFile), ["airplane", "", "automobile"]);
        using (var writer = new WebDatasetWriter(test, "0", 10)) writer.Write("x", Files(("webp", File.ReadAllBytes(ReferenceFiles.Image("chelsea.webp"))), ("cls", Text("1"))));
        File.Move(Path.Combine(test, "0-000000.tar"), Path.Combine(test, "0.tar"));

        var source = new WebDatasetLabeledSource(Path.Combine(test, "{0..0}.tar"));
        Assert.Equal(["airplane", "automobile"], source.ClassNames);
        Assert.Equal("cifar3-test", source.Name);
        var sample = Assert.Single(source.Read());
        Assert.Equal(1, sample.Label);
        Assert.Equal(ImageFormat.WebP, sample.Image.Decode().Format);
    }

    [Fact]
    public void BadPatternsAndMissingClassNamesAreClearErrors()
    {
        using (var writer = new WebDatasetWriter(folder, "ok", 10)) writer.Write("x", Files(("png", PngOf("x")), ("cls", Text("0"))));
        var missing = Assert.Throws<FileNotFoundException>(() => new WebDatasetLabeledSource(Path.Combine(folder, "ok-{000000..000001}.tar"), Classes));
        Assert.Contains("ok-000001.tar", missing.Message);
        Assert.Throws<FileNotFoundException>(() => new WebDatasetCaptionSource(Path.Combine(folder, "nope.tar")));
        var noNames = Assert.Throws<ArgumentException>(() => new WebDatasetLabeledSource(Path.Combine(folder, "ok-000000.tar")));
        Assert.Contains(WebDatasetLabeledSource.ClassNamesFile, noNames.Message);
    }

    [Theory]
    [InlineData("data/test-{000000..000003}.tar", true)]
    [InlineData("a.tar::b.tar", true)]
    [InlineData("https://host/x/0.tar", true)]
    [InlineData("/data/SHARD.TAR", true)]
    [InlineData("/data/imagenet/val", false)]
    [InlineData("labels.csv", false)]
    [InlineData("t10k-images-idx3-ubyte.gz", false)]
    public void ShardArgumentsAreRecognised(string data, bool shards) => Assert.Equal(shards, WebDatasetLabeledSource.LooksLikeShards(data));

    [Fact]
    public void FirstTakesAPrefixOfAnySource()
    {
        var source = LabeledImageSource.FromList("ten", Classes, Enumerable.Range(0, 10).Select(i => FakeSamples.Labeled($"k{i}", i % 3)).ToList(), "ten-v1");
        var first = LabeledImageSource.First(source, 4);
        Assert.Equal(["k0", "k1", "k2", "k3"], first.Read().Select(s => s.Image.Key));
        Assert.Equal(4, first.Count);
        Assert.NotEqual(source.Fingerprint, first.Fingerprint);
        Assert.Equal(10, LabeledImageSource.First(source, 50).Count);
    }

    private static string Tail(string key) => key[(key.LastIndexOf(':') + 1)..];

    private static Dictionary<string, byte[]> Files(params (string Extension, byte[] Data)[] files) => files.ToDictionary(f => f.Extension, f => f.Data);

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    // Random pixels do not compress: the PNG is larger than the 100 bytes the truncation keeps.
    private static byte[] NoisePng()
    {
        var pixels = new byte[40 * 40];
        new Random(5).NextBytes(pixels);
        return PngEncoder.Encode(pixels, 40, 40, 1);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        throw new InvalidOperationException("not found");
    }
}
