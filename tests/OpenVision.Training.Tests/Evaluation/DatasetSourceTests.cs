using System.IO.Compression;
using OpenVision.Training.Evaluation;
using OpenVision.Training.Evaluation.Datasets;
using OpenVision.Vision;

namespace OpenVision.Training.Tests.Evaluation;

public class DatasetSourceTests : IDisposable
{
    private readonly string folder = FakeSamples.TempFolder();

    public void Dispose() => Directory.Delete(folder, true);

    [Fact]
    public void ClassFoldersAreLabelledInOrdinalOrder()
    {
        Write("b_dog/x.png", "Zebra/1.png", "Zebra/sub/2.png", "a_cat/readme.txt", "a_cat/c.jpg");
        var source = new ClassFolderSource(folder);
        Assert.Equal(["Zebra", "a_cat", "b_dog"], source.ClassNames);   // ordinal: upper case first, like Python's sorted()
        var samples = source.Read().Select(s => (Path.GetRelativePath(folder, s.Image.Key), s.Label)).ToList();
        Assert.Equal([("Zebra/1.png", 0), ("Zebra/sub/2.png", 0), ("a_cat/c.jpg", 1), ("b_dog/x.png", 2)], samples);
        Assert.Equal(4, source.Count);

        var named = new ClassFolderSource(folder, ["zebra", "cat", "dog"]);
        Assert.Equal("cat", named.ClassNames[1]);
        Assert.Throws<InvalidDataException>(() => new ClassFolderSource(folder, ["only one"]));
    }

    [Fact]
    public void FolderFingerprintChangesWhenAFileChanges()
    {
        Write("a/1.png", "b/2.png");
        string before = new ClassFolderSource(folder).Fingerprint!;
        Assert.Equal(before, new ClassFolderSource(folder).Fingerprint);
        File.WriteAllText(Path.Combine(folder, "a/1.png"), "longer content now");
        Assert.NotEqual(before, new ClassFolderSource(folder).Fingerprint);
    }

    [Fact]
    public void CsvAcceptsIndicesNamesHeadersAndQuotedPaths()
    {
        File.WriteAllLines(Path.Combine(folder, "names.csv"), ["path,label", "img/a.png,dog", "\"img/b, c.png\",cat", "img/d.png,dog"]);
        var byName = new CsvLabeledSource(Path.Combine(folder, "names.csv"));
        Assert.Equal(["cat", "dog"], byName.ClassNames);
        var rows = byName.Read().Select(s => (Path.GetFileName(s.Image.Key), s.Label)).ToList();
        Assert.Equal([("a.png", 1), ("b, c.png", 0), ("d.png", 1)], rows);

        File.WriteAllLines(Path.Combine(folder, "ids.tsv"), ["x.png\t2", "y.png\t0"]);
        var byIndex = new CsvLabeledSource(Path.Combine(folder, "ids.tsv"), ["n0", "n1", "n2"]);
        Assert.Equal([2, 0], byIndex.Read().Select(s => s.Label));
        Assert.Equal(Path.Combine(folder, "x.png"), byIndex.Read().First().Image.Key);
        Assert.Throws<InvalidDataException>(() => new CsvLabeledSource(Path.Combine(folder, "ids.tsv"), ["n0"]));
        Assert.Throws<InvalidDataException>(() => new CsvLabeledSource(Path.Combine(folder, "names.csv"), ["cat", "bird"]));
    }

    [Fact]
    public void IdxFilesStreamGreyImagesAndLabels()
    {
        // Three 2×3 images with labels 2, 0, 1, gzipped like the Fashion-MNIST downloads.
        string images = Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), labels = Path.Combine(folder, "t10k-labels-idx1-ubyte.gz");
        WriteGzip(images, [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3, .. Enumerable.Range(0, 18).Select(i => (byte)(i * 10))]);
        WriteGzip(labels, [0, 0, 8, 1, 0, 0, 0, 3, 2, 0, 1]);
        var source = new IdxLabeledSource(images, classNames: IdxLabeledSource.FashionMnistClassNames);
        Assert.Equal(3, source.Count);
        Assert.Equal("t10k", source.Name);
        var samples = source.Read().ToList();
        Assert.Equal([2, 0, 1], samples.Select(s => s.Label));
        var second = samples[1].Image.Decode();
        Assert.Equal((3, 2, ImageMode.L), (second.Width, second.Height, second.Mode));
        Assert.Equal(new byte[] { 60, 70, 80, 90, 100, 110 }, second.Pixels);
        Assert.Equal("t10k:1", samples[1].Image.Key);
        Assert.Throws<InvalidDataException>(() => new IdxLabeledSource(labels, labels));
    }

    [Fact]
    public void ManifestsGroupCaptionsPerImage()
    {
        File.WriteAllLines(Path.Combine(folder, "caps.jsonl"),
            ["{\"image\": \"a.jpg\", \"captions\": [\"one\", \"two\"]}", "", "{\"file\": \"b.jpg\", \"caption\": \"three\"}"]);
        var jsonl = new CaptionManifestSource(Path.Combine(folder, "caps.jsonl")).Read().ToList();
        Assert.Equal([["one", "two"], ["three"]], jsonl.Select(i => i.Captions.ToArray()));

        File.WriteAllText(Path.Combine(folder, "caps.json"), "[{\"image\": \"a.jpg\", \"caption\": [\"x\"]}]");
        Assert.Single(new CaptionManifestSource(Path.Combine(folder, "caps.json")).Read());

        File.WriteAllLines(Path.Combine(folder, "caps.csv"), ["image,caption", "a.jpg,first", "b.jpg,other", "a.jpg,\"second, with comma\""]);
        var csv = new CaptionManifestSource(Path.Combine(folder, "caps.csv"));
        Assert.Equal(3, csv.CaptionCount);
        var grouped = csv.Read().ToList();
        Assert.Equal(["first", "second, with comma"], grouped[0].Captions);
        Assert.Equal(Path.Combine(folder, "b.jpg"), grouped[1].Image.Key);
    }

    [Fact]
    public void BatchStreamKeepsOrderSkipsBadSamplesAndStopsEarly()
    {
        var samples = Enumerable.Range(0, 10).Select(i => i == 4 ? FakeSamples.Bad($"s{i}") : FakeSamples.Good($"s{i}")).ToList();
        var stream = new SampleBatchStream(new ImageTransform(new ImageTransformOptions { ImageSize = 4 }), batchSize: 3);
        var batches = stream.Read(samples, s => s, CancellationToken.None).ToList();
        try
        {
            Assert.Equal(["s0", "s1", "s2", "s3", "s5", "s6", "s7", "s8", "s9"], batches.SelectMany(b => b.Items.Select(s => s.Key)));
            Assert.Equal([3, 2, 3, 1], batches.Select(b => (int)b.Pixels.shape[0]));
            Assert.Equal("s4", batches.SelectMany(b => b.Skipped).Single().Path);
        }
        finally { foreach (var b in batches) b.Dispose(); }

        // Leaving early stops the producer (the enumeration returns instead of hanging).
        int read = 0;
        foreach (var batch in stream.Read(Enumerable.Range(0, 1000).Select(i => FakeSamples.Good($"k{i}")), s => s))
        {
            batch.Dispose();
            if (++read == 2) break;
        }
        Assert.Equal(2, read);
    }

    [Fact]
    public void UnreadableImageFilesAreSkippedWithTheirNames()
    {
        Write("a/good.png");
        File.Copy(ReferenceFiles.Image("camera.png"), Path.Combine(folder, "a", "good.png"), overwrite: true);
        File.Copy(ReferenceFiles.Image("truncated.jpg"), Path.Combine(folder, "a", "truncated.jpg"));
        var stream = new SampleBatchStream(new ImageTransform(new ImageTransformOptions { ImageSize = 8 }), batchSize: 4);
        using var batch = stream.Read(new ClassFolderSource(folder).Read(), s => s.Image).Single();
        Assert.Single(batch.Items);
        Assert.Contains("truncated.jpg", Assert.Single(batch.Skipped).Reason);
    }

    private void Write(params string[] relative)
    {
        foreach (var r in relative)
        {
            string path = Path.Combine(folder, r);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "x");
        }
    }

    private static void WriteGzip(string path, byte[] data)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(data);
    }
}
