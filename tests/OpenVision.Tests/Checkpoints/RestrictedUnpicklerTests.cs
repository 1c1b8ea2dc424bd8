using System.Text;
using OpenVision.Checkpoints;
using OpenVision.Checkpoints.Pickle;

namespace OpenVision.Tests.Checkpoints;

public class RestrictedUnpicklerTests
{
    // Builds a pickle from opcode strings (Latin-1, so "\u0080" is one byte; C#'s \x would eat following hex digits) and raw byte arrays.
    private static byte[] P(params object[] parts) =>
        parts.SelectMany(p => p as byte[] ?? Encoding.Latin1.GetBytes((string)p)).ToArray();

    private static object? Load(byte[] pickle, UnpicklerLimits? limits = null) =>
        new RestrictedUnpickler("test.pkl", limits: limits).Load(pickle);

    private static string Refusal(byte[] pickle, UnpicklerLimits? limits = null)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => Load(pickle, limits));
        Assert.Equal("test.pkl", e.Path);
        return e.Problem;
    }

    [Fact]
    public void BuildsPlainValues()
    {
        // {"a": [1, -2, 3.5, True, None, (b"x", "é")], "big": -(2**40)} written by CPython with protocol 2.
        var pickle = Convert.FromHexString(
            "80027d71002858010000006171015d7102284b014afeffffff47400c000000000000884e635f636f646563730a656e636f64650a7103" +
            "580100000078710458060000006c6174696e3171058671065271075802000000c3a97108867109655803000000626967710a8a06" +
            "0000000000ff752e");
        var dict = Assert.IsType<OrderedDictionary<object, object?>>(Load(pickle));
        var list = Assert.IsType<List<object?>>(dict["a"]);
        Assert.Equal(1L, list[0]);
        Assert.Equal(-2L, list[1]);
        Assert.Equal(3.5, list[2]);
        Assert.Equal(true, list[3]);
        Assert.Null(list[4]);
        var tuple = Assert.IsType<object[]>(list[5]);
        Assert.Equal("x"u8.ToArray(), tuple[0]);
        Assert.Equal("é", tuple[1]);
        Assert.Equal(-(1L << 40), dict["big"]);
    }

    [Theory]
    [InlineData("builtins", "eval")]
    [InlineData("os", "system")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch.storage", "_load_from_bytes")]
    [InlineData("numpy.core.multiarray", "_reconstruct")]
    [InlineData("torch._utils", "_rebuild_device_tensor_from_numpy")]
    [InlineData("__builtin__", "getattr")]
    public void RefusesGlobalsOutsideTheAllowList(string module, string name)
    {
        Assert.Contains($"refuses to import {module}.{name}", Refusal(P("\u0080\u0002c", module, "\n", name, "\n)R.")));
        // STACK_GLOBAL (protocol 4) goes through the same gate.
        Assert.Contains($"refuses to import {module}.{name}",
            Refusal(P("\u0080\u0004\u008c", new[] { (byte)module.Length }, module, "\u008c", new[] { (byte)name.Length }, name, "\u0093)R.")));
    }

    [Fact]
    public void RefusesCallsThatAreNotAllowedCallables()
    {
        // REDUCE on a plain string, and OrderedDict called with arguments it never gets from torch.save.
        Assert.Contains("not an allowed callable", Refusal(P("\u0080\u0002X\u0001\u0000\u0000\u0000a)R.")));
        Assert.Contains("unexpected arguments", Refusal(P("\u0080\u0002ccollections\nOrderedDict\nK\u0001\u0085R.")));
        // BUILD on a list, and persistent ids where none are expected.
        Assert.Contains("BUILD", Refusal(P("\u0080\u0002]}b.")));
        Assert.Contains("persistent id", Refusal(P("\u0080\u0002K\u0000Q.")));
    }

    [Theory]
    [InlineData("\u0080\u0002(X\u0001\u0000\u0000\u0000a", "truncated")]                      // no STOP
    [InlineData("\u0080\u0002X\u00ff\u00ff\u00ff\u0000ab.", "remain")]                           // string longer than the data
    [InlineData("\u0080\u0002X\u00ff\u00ff\u00ff\u00ffab.", "limit")]                            // 4 GB string
    [InlineData("\u0080\u0002h\u0005.", "never stored")]                                   // BINGET of an empty memo
    [InlineData("\u0080\u0002I1\n.", "unsupported pickle opcode 0x49")]                  // text-era INT
    [InlineData("\u0080\u0002i__builtin__\neval\n.", "unsupported pickle opcode 0x69")] // INST
    [InlineData("\u0080\u0002\u0082\u0001.", "unsupported pickle opcode 0x82")]              // EXT1
    [InlineData("\u0080\u0002a.", "empty stack")]
    [InlineData("\u0080\u0002K\u0001K\u0002.", "2 values on the stack")]
    [InlineData("\u0080\u0002t.", "MARK that was never set")]
    [InlineData("\u0080\u0002\u008a\u0009\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0001.", "larger than 64 bits")]
    [InlineData("\u0080\u0006N.", "protocol 6")]
    [InlineData("\u0080\u0002cos\nsys tem\n.", "invalid identifier")]
    public void RefusesMalformedStreams(string pickle, string expected)
    {
        Assert.Contains(expected, Refusal(Encoding.Latin1.GetBytes(pickle)));
    }

    [Fact]
    public void EnforcesLimits()
    {
        var tight = new UnpicklerLimits { MaxMemoEntries = 2, MaxMarkDepth = 3, MaxStringBytes = 4, MaxPickleBytes = 64, MaxStackSize = 5 };
        Assert.Contains("memo", Refusal(P("\u0080\u0002N\u0094\u0094\u0094."), tight));
        Assert.Contains("MARK", Refusal(P("\u0080\u0002((((."), tight));
        Assert.Contains("limit", Refusal(P("\u0080\u0002X\u0005\u0000\u0000\u0000abcde."), tight));
        Assert.Contains("stack", Refusal(P("\u0080\u0002NNNNNN."), tight));
        Assert.Contains("64-byte limit", Refusal(new byte[65], tight));
    }

    [Fact]
    public void AllowListIsExactlyWhatTorchSaveNeeds()
    {
        // A change here widens what a checkpoint may make us do: review it as a security change.
        Assert.Equal(
        [
            "__builtin__.frozenset", "__builtin__.set", "_codecs.encode", "builtins.frozenset", "builtins.set",
            "collections.OrderedDict", "torch.BFloat16Storage", "torch.BoolStorage", "torch.ByteStorage", "torch.CharStorage",
            "torch.DoubleStorage", "torch.FloatStorage", "torch.HalfStorage", "torch.IntStorage", "torch.LongStorage",
            "torch.ShortStorage", "torch.Size", "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
        ], PickleAllowList.Names);
    }

    [Fact]
    public void CyclesAreDataNotRecursion()
    {
        // l = []; l.append(l): the memo makes a self-reference, which must come out as a plain cyclic list.
        var list = Assert.IsType<List<object?>>(Load(P("\u0080\u0002]q\u0000h\u0000a.")));
        Assert.Same(list, list[0]);
    }
}
