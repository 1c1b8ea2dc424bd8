using System.Text;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Training.Tests.Data;

public sealed class WebDatasetSourceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _pattern;
    private static readonly string[] AllKeys = [.. Enumerable.Range(0, 100).Select(i => $"s{i:D7}")];

    public WebDatasetSourceTests() => _pattern = DataFixtures.WriteShards(_dir.Path, 100, 10);

    public void Dispose() => _dir.Dispose();

    private WebDatasetSource Source(long seed, int rank = 0, int worldSize = 1, bool shuffle = true) =>
        new(_pattern, new DataOrderOptions { Seed = seed, Rank = rank, WorldSize = worldSize, Shuffle = shuffle, ShuffleBufferSize = 16 });

    [Fact]
    public void UnshuffledOrderIsTheShardOrder() => Assert.Equal(AllKeys, DataFixtures.Keys(Source(0, shuffle: false)));

    [Fact]
    public void ShuffleIsDeterministicAndVisitsEverySampleOncePerEpoch()
    {
        var a = DataFixtures.Keys(Source(7));
        Assert.Equal(a, DataFixtures.Keys(Source(7)));
        Assert.NotEqual(a, DataFixtures.Keys(Source(8)));
        Assert.NotEqual(a, DataFixtures.Keys(Source(7), epoch: 1));
        Assert.NotEqual(AllKeys, a);
        foreach (var keys in new[] { a, DataFixtures.Keys(Source(8)), DataFixtures.Keys(Source(7), epoch: 1) })
            Assert.Equal(AllKeys, keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ShuffleBufferMovesSamplesAcrossShards()
    {
        // With a buffer of 16 the first 10 samples cannot all come from the first shard read.
        var keys = DataFixtures.Keys(Source(3));
        Assert.True(keys.Take(10).Select(k => int.Parse(k[1..]) / 10).Distinct().Count() > 1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(10)]
    public void RanksReadDisjointPartsThatCoverEverything(int worldSize)
    {
        var list = ShardList.FromPatterns(_pattern);
        var parts = Enumerable.Range(0, worldSize).Select(r => list.ShardsFor(r, worldSize)).ToList();
        Assert.Equal(list.Shards.Order(), parts.SelectMany(p => p).Order());
        Assert.Equal(list.Shards.Count, parts.SelectMany(p => p).Distinct().Count());
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var keys = Enumerable.Range(0, worldSize).SelectMany(r => DataFixtures.Keys(Source(5, r, worldSize), epoch)).ToList();
            Assert.Equal(AllKeys, keys.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void MoreRanksThanShardsIsAnError() =>
        Assert.Throws<ArgumentException>(() => Source(0, rank: 0, worldSize: 11));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(99)]
    [InlineData(100)]
    public void ResumingAfterKSamplesGivesTheRestOfTheEpoch(int k)
    {
        var full = DataFixtures.Keys(Source(11), epoch: 2);
        Assert.Equal(full.Skip(k), DataFixtures.Keys(Source(11), epoch: 2, skip: k));
    }

    [Fact]
    public void MapsFieldsAndFallsBackWithoutCaption()
    {
        using var dir = new TempDirectory();
        using (var writer = new WebDatasetWriter(dir.Path, "m", 100))
        {
            writer.Write("json-caption", DataFixtures.Sample(1, caption: true, label: 4));
            writer.Write("no-caption", DataFixtures.Sample(2, caption: false));
            writer.Write("text-caption", new Dictionary<string, byte[]>
            {
                ["jpg"] = [0xFF, 0xD8, 0xFF, 0],
                ["txt"] = "\uFEFF alt \n"u8.ToArray(),
                ["recap.txt"] = "From the text file."u8.ToArray(),
                ["json"] = "{\"recaption\": \"From the json.\"}"u8.ToArray(),
            });
            writer.Write("caption-field", new Dictionary<string, byte[]>
            {
                ["webp"] = [1], ["txt"] = "alt"u8.ToArray(), ["json"] = "{\"caption\": \"img2dataset alt\"}"u8.ToArray(),
            });
        }
        var samples = new WebDatasetSource(Path.Combine(dir.Path, "m-000000.tar"), new DataOrderOptions { Shuffle = false }).ReadEpoch(0).ToList();
        Assert.Equal(("alt text 1", "Sentence one of 1. Sentence two! Sentence three.", (int?)4), (samples[0].AltText, samples[0].Caption, samples[0].Label));
        Assert.Null(samples[1].Caption);
        Assert.Equal(("alt", "From the text file."), (samples[2].AltText, samples[2].Caption));
        Assert.EndsWith("text-caption.jpg", samples[2].ImageName);
        Assert.Null(samples[3].Caption); // "caption" is not a default caption field
        var custom = new WebDatasetSource(Path.Combine(dir.Path, "m-000000.tar"), new DataOrderOptions { Shuffle = false },
            new WebDatasetOptions { CaptionJsonFields = ["caption"] });
        Assert.Equal("img2dataset alt", custom.ReadEpoch(0).Last().Caption);
    }

    [Fact]
    public void IncompleteSamplesAreSkippedWithReasons()
    {
        using var dir = new TempDirectory();
        using (var writer = new WebDatasetWriter(dir.Path, "bad", 100))
        {
            writer.Write("ok", DataFixtures.Sample(0));
            writer.Write("no-image", new Dictionary<string, byte[]> { ["txt"] = "alt"u8.ToArray() });
            writer.Write("no-text", new Dictionary<string, byte[]> { ["png"] = DataFixtures.Png(1) });
            writer.Write("empty-text", new Dictionary<string, byte[]> { ["png"] = DataFixtures.Png(1), ["txt"] = " "u8.ToArray() });
            writer.Write("bad-label", new Dictionary<string, byte[]> { ["png"] = DataFixtures.Png(1), ["txt"] = "a"u8.ToArray(), ["cls"] = "x"u8.ToArray() });
            writer.Write("bad-json", new Dictionary<string, byte[]> { ["png"] = DataFixtures.Png(1), ["txt"] = "a"u8.ToArray(), ["json"] = "{"u8.ToArray() });
            writer.Write("bad-utf8", new Dictionary<string, byte[]> { ["png"] = DataFixtures.Png(1), ["txt"] = [0xC3, 0x28] });
        }
        var source = new WebDatasetSource(Path.Combine(dir.Path, "bad-000000.tar"), new DataOrderOptions { Shuffle = false });
        Assert.Equal(["ok"], DataFixtures.Keys(source));
        var counts = source.Skips.CountsByReason;
        Assert.Equal(1, counts[SkipReason.MissingImage]);
        Assert.Equal(2, counts[SkipReason.MissingAltText]);
        Assert.Equal(3, counts[SkipReason.BadMetadata]);
        Assert.Contains(source.Skips.Recent, s => s.Key == "bad-label" && s.Detail.Contains("not an integer"));
    }

    [Fact]
    public void WriterRejectsKeysThatWouldNotReadBack()
    {
        using var dir = new TempDirectory();
        using var writer = new WebDatasetWriter(dir.Path, "k", 10);
        Assert.Throws<ArgumentException>(() => writer.Write("a.b", DataFixtures.Sample(0)));
        Assert.Throws<ArgumentException>(() => writer.Write("dir/", DataFixtures.Sample(0)));
        writer.Write("dir/a", DataFixtures.Sample(0));
        writer.Flush();
        var source = new WebDatasetSource(writer.ShardPattern, new DataOrderOptions { Shuffle = false });
        Assert.Equal(["dir/a"], DataFixtures.Keys(source));
    }
}
