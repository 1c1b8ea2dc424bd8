using OpenVision.Checkpoints;
using OpenVision.Checkpoints.Pickle;
using OpenVision.Checkpoints.Zip;

namespace OpenVision.Tests.Checkpoints;

/// <summary>Hostile archives built by hand: well-formed pickles whose tensor views lie about their storage.</summary>
public class CraftedCheckpointTests
{
    // {"w": _rebuild_tensor_v2(storage "0" of storageElements F32, offset, size, stride, False, OrderedDict())}
    private static MemoryStream Archive(long storageElements, byte[] storageBytes, long offset, long[] size, long[] stride)
    {
        var p = new PickleWriter();
        p.Op(PickleOpcode.EmptyDict);
        p.String("w");
        p.Global("torch._utils", "_rebuild_tensor_v2");
        p.Op(PickleOpcode.Mark);
        p.Op(PickleOpcode.Mark);
        p.String("storage");
        p.Global("torch", "FloatStorage");
        p.String("0");
        p.String("cpu");
        p.Int(storageElements);
        p.Op(PickleOpcode.Tuple);
        p.Op(PickleOpcode.BinPersId);
        p.Int(offset);
        p.IntTuple(size);
        p.IntTuple(stride);
        p.Op(PickleOpcode.NewFalse);
        p.Global("collections", "OrderedDict");
        p.Op(PickleOpcode.EmptyTuple);
        p.Op(PickleOpcode.Reduce);
        p.Op(PickleOpcode.Tuple);
        p.Op(PickleOpcode.Reduce);
        p.Op(PickleOpcode.SetItem);
        p.Op(PickleOpcode.Stop);
        var stream = new MemoryStream();
        var zip = new StoredZipWriter(stream);
        zip.Add("archive/data.pkl", p.ToArray());
        zip.Add("archive/data/0", storageBytes);
        zip.Finish();
        stream.Position = 0;
        return stream;
    }

    private static string Refusal(MemoryStream archive) =>
        Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.Read(archive, "crafted.pt")).Problem;

    [Fact]
    public void ReadsAWellFormedCraftedView()
    {
        // Column 1 of a [2, 3] storage holding 0..5: elements 1 and 4.
        var bytes = Enumerable.Range(0, 6).SelectMany(i => BitConverter.GetBytes((float)i)).ToArray();
        var t = TorchCheckpointReader.Read(Archive(6, bytes, 1, [2], [3]), "crafted.pt")["w"];
        Assert.Equal(BitConverter.GetBytes(1f).Concat(BitConverter.GetBytes(4f)), t.Bytes);
    }

    [Theory]
    [InlineData(6L, new long[] { 2, 3 }, new long[] { 3, 1 })]      // offset 6: the view starts past the end
    [InlineData(0L, new long[] { 3, 3 }, new long[] { 3, 1 })]      // 9 elements from a 6-element storage
    [InlineData(0L, new long[] { 2 }, new long[] { 6 })]            // a stride that jumps out
    [InlineData(0L, new long[] { 3 }, new long[] { 1L << 62 })]     // index arithmetic that overflows
    public void RefusesViewsOutsideTheStorage(long offset, long[] size, long[] stride)
    {
        Assert.Contains("reaches element", Refusal(Archive(6, new byte[24], offset, size, stride)));
    }

    [Fact]
    public void RefusesBroadcastMemoryBomb()
    {
        // One stored float viewed as 2^30 floats (4 GB) through stride 0.
        Assert.Contains("memory bomb", Refusal(Archive(1, new byte[4], 0, [1L << 30], [0])));
    }

    [Fact]
    public void RefusesStorageLargerThanItsRecord()
    {
        Assert.Contains("storage '0'", Refusal(Archive(1_000_000, new byte[24], 0, [6], [1])));
    }
}
