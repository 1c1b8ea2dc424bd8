using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Training.Tests.Data;

public class BraceExpansionTests
{
    [Theory]
    [InlineData("shards-{000000..000003}.tar", "shards-000000.tar shards-000001.tar shards-000002.tar shards-000003.tar")]
    [InlineData("x{8..11}", "x8 x9 x10 x11")]
    [InlineData("x{08..11}", "x08 x09 x10 x11")]
    [InlineData("x{3..1}", "x3 x2 x1")]
    [InlineData("x{0..6..3}", "x0 x3 x6")]
    [InlineData("{a,b}-{1..2}.tar", "a-1.tar a-2.tar b-1.tar b-2.tar")]
    [InlineData("{a,b{1,2}}c", "ac b1c b2c")]
    [InlineData("p-{a..c}", "p-a p-b p-c")]
    [InlineData("plain.tar", "plain.tar")]
    [InlineData("lit{x}.tar", "lit{x}.tar")]
    [InlineData("a.tar::b-{1..2}.tar", "a.tar b-1.tar b-2.tar")]
    [InlineData("/data/{train,val}/part-{00..01}.tar", "/data/train/part-00.tar /data/train/part-01.tar /data/val/part-00.tar /data/val/part-01.tar")]
    [InlineData("{}", "{}")]
    public void ExpandsLikeBash(string pattern, string expected) =>
        Assert.Equal(expected.Split(' '), BraceExpansion.Expand(pattern));

    [Fact]
    public void LargeRangesKeepTheirWidth()
    {
        var names = BraceExpansion.Expand("shards-{000000..000123}.tar");
        Assert.Equal(124, names.Count);
        Assert.Equal("shards-000123.tar", names[^1]);
        Assert.All(names, n => Assert.Equal("shards-000000.tar".Length, n.Length));
    }

    [Fact]
    public void AbsurdRangesAreRefused() => Assert.Throws<ArgumentException>(() => BraceExpansion.Expand("{0..99999999}"));
}
