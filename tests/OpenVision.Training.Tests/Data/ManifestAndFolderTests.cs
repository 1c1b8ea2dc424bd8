using OpenVision.Training.Data;

namespace OpenVision.Training.Tests.Data;

public class ManifestAndFolderTests
{
    [Fact]
    public void ParsesQuotedFieldsDoubledQuotesAndLineBreaks()
    {
        string text = "\uFEFFa,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\nplain,,last\n";
        var records = DelimitedText.Parse(text, ',', "t.csv").ToList();
        Assert.Equal([1, 2, 5], records.Select(r => r.Line));
        Assert.Equal(["a", "b", "c"], records[0].Fields);
        Assert.Equal(["x, y", "say \"hi\"", "two\nlines"], records[1].Fields);
        Assert.Equal(["plain", "", "last"], records[2].Fields);
    }

    [Theory]
    [InlineData("a,\"open\n")]
    [InlineData("a,\"closed\"junk\n")]
    public void BrokenQuotingIsAnErrorNamingTheFile(string text)
    {
        var e = Assert.Throws<FormatException>(() => DelimitedText.Parse(text, ',', "bad.csv").ToList());
        Assert.StartsWith("bad.csv: line 1", e.Message);
    }

    [Fact]
    public void ManifestGivesImagesTextsAndLabelsAndSkipsBadRows()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("img"));
        for (int i = 0; i < 4; i++) File.WriteAllBytes(dir.File($"img/{i}.png"), DataFixtures.Png(i));
        File.WriteAllText(dir.File("m.tsv"),
            "filepath\ttitle\tcaption\tlabel\n" +
            "img/0.png\tzero\tA caption. Two.\t3\n" +
            "img/1.png\tone\t\t\n" +
            "img/missing.png\tgone\t\t\n" +
            "img/2.png\t\tno alt\t\n" +
            "img/3.png\t\"three, quoted\"\tC.\t1\n");
        var source = new ManifestSource(dir.File("m.tsv"), new DataOrderOptions { Shuffle = false });
        Assert.Equal(4, source.Count);
        var samples = source.ReadEpoch(0).ToList();
        Assert.Equal(["zero", "one", "three, quoted"], samples.Select(s => s.AltText));
        Assert.Equal(("A caption. Two.", (int?)3), (samples[0].Caption, samples[0].Label));
        Assert.Null(samples[1].Caption);
        Assert.Equal(DataFixtures.Png(3), samples[2].ImageBytes);
        Assert.Equal(1, source.Skips.CountsByReason[SkipReason.MissingAltText]);
        Assert.Equal(1, source.Skips.CountsByReason[SkipReason.UnreadableFile]);
        // Resume: skipping counts only samples that exist, so the rest matches.
        Assert.Equal(["one", "three, quoted"], source.ReadEpoch(0, skip: 1).Select(s => s.AltText));
    }

    [Fact]
    public void AManifestThatTrainsAlsoEvaluates()
    {
        // One parser for both: a quoted caption over two lines (with a comma and a doubled quote) in a training
        // manifest is the same text to the trainer and to retrieval evaluation.
        using var dir = new TempDirectory();
        for (int i = 0; i < 2; i++) File.WriteAllBytes(dir.File($"{i}.png"), DataFixtures.Png(i));
        File.WriteAllText(dir.File("m.csv"), "image,alt_text\r\n0.png,\"a cat,\non two \"\"lines\"\"\"\r\n1.png,plain\r\n");
        const string twoLines = "a cat,\non two \"lines\"";

        var training = new ManifestSource(dir.File("m.csv"), new DataOrderOptions { Shuffle = false });
        Assert.Equal([twoLines, "plain"], training.ReadEpoch(0).Select(s => s.AltText));

        var evaluation = new OpenVision.Training.Evaluation.Datasets.CaptionManifestSource(dir.File("m.csv"));
        var images = evaluation.Read().ToList();
        Assert.Equal([dir.File("0.png"), dir.File("1.png")], images.Select(i => i.Image.Key));
        Assert.Equal(new[] { new[] { twoLines }, new[] { "plain" } }, images.Select(i => i.Captions.ToArray()));

        // Negative control: the same quote left open is an error in both, naming the file and the line.
        File.WriteAllText(dir.File("open.csv"), "image,alt_text\n0.png,\"never closed\n");
        Assert.Contains("open.csv: line 2", Assert.Throws<FormatException>(() => new ManifestSource(dir.File("open.csv"))).Message);
        Assert.Contains("open.csv: line 2", Assert.Throws<FormatException>(() => new OpenVision.Training.Evaluation.Datasets.CaptionManifestSource(dir.File("open.csv"))).Message);
    }

    [Fact]
    public void ManifestWithoutAnImageColumnIsRejected()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("m.csv"), "name,text\na.png,x\n");
        var e = Assert.Throws<FormatException>(() => new ManifestSource(dir.File("m.csv")));
        Assert.Contains("m.csv", e.Message);
    }

    [Fact]
    public void ManifestShufflesAndPartitionsDeterministically()
    {
        using var dir = new TempDirectory();
        var lines = new List<string> { "image,text" };
        for (int i = 0; i < 30; i++)
        {
            File.WriteAllBytes(dir.File($"{i}.png"), DataFixtures.Png(i));
            lines.Add($"{i}.png,alt {i}");
        }
        File.WriteAllLines(dir.File("m.csv"), lines);
        List<string> Alts(int seed, int rank, int world, int epoch = 0) =>
            new ManifestSource(dir.File("m.csv"), new DataOrderOptions { Seed = seed, Rank = rank, WorldSize = world }).ReadEpoch(epoch).Select(s => s.AltText).ToList();
        Assert.Equal(Alts(1, 0, 1), Alts(1, 0, 1));
        Assert.NotEqual(Alts(1, 0, 1), Alts(2, 0, 1));
        Assert.NotEqual(Alts(1, 0, 1), Alts(1, 0, 1, epoch: 1));
        var parts = Enumerable.Range(0, 4).SelectMany(r => Alts(1, r, 4)).ToList();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"alt {i}").Order(), parts.Order());
    }

    [Fact]
    public void FolderReadsSidecarTextsCaptionsAndJson()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("sub"));
        File.WriteAllBytes(dir.File("a.png"), DataFixtures.Png(0));
        File.WriteAllText(dir.File("a.txt"), "alt a\n");
        File.WriteAllText(dir.File("a.caption.txt"), "Caption a. More.");
        File.WriteAllBytes(dir.File("sub/b.png"), DataFixtures.Png(1));
        File.WriteAllText(dir.File("sub/b.txt"), "alt b");
        File.WriteAllText(dir.File("sub/b.json"), "{\"caption\": \"alt b again\", \"recaption\": \"Caption b.\"}");
        File.WriteAllBytes(dir.File("c.png"), DataFixtures.Png(2));
        File.WriteAllText(dir.File("c.txt"), "alt c");
        File.WriteAllBytes(dir.File("d.png"), DataFixtures.Png(3));   // no alt-text
        var source = new FolderSource(dir.Path, new DataOrderOptions { Shuffle = false });
        var samples = source.ReadEpoch(0).ToList();
        Assert.Equal(["a", "c", "sub/b"], samples.Select(s => s.Key));
        Assert.Equal(("alt a", "Caption a. More."), (samples[0].AltText, samples[0].Caption));
        Assert.Null(samples[1].Caption);
        Assert.Equal("Caption b.", samples[2].Caption);
        Assert.Equal(1, source.Skips.CountsByReason[SkipReason.MissingAltText]);
    }
}
