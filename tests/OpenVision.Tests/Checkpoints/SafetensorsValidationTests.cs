using System.Buffers.Binary;
using System.Text;
using OpenVision.Checkpoints;
using OpenVision.Tests.Fixtures;

namespace OpenVision.Tests.Checkpoints;

/// <summary>Hand-built safetensors files against the rules of the reference reader (huggingface/safetensors,
/// <c>SafeTensors::read_metadata</c> and <c>Metadata::validate</c>): what it accepts loads, what it refuses is refused
/// with one line naming the file.</summary>
public sealed class SafetensorsValidationTests : IDisposable
{
    private readonly TempFolder temp = TestFiles.NewTempFolder();

    public void Dispose() => temp.Dispose();

    // Two F32 tensors of 2 elements: a at [0, 8), b at [8, 16).
    private const string TwoTensors = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""";

    private static readonly byte[] SixteenBytes = new[] { 1f, 2f, 3f, 4f }.SelectMany(BitConverter.GetBytes).ToArray();

    // The length field, the header (padded with spaces to a multiple of 8 as writers do) and the data.
    private string Write(string header, byte[] data, long lengthDelta = 0, byte[]? rawHeader = null)
    {
        byte[] json = rawHeader ?? Encoding.UTF8.GetBytes(header);
        int padding = (8 - json.Length % 8) % 8;
        var bytes = new byte[8 + json.Length + padding + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(json.Length + padding + lengthDelta));
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padding).Fill((byte)' ');
        data.CopyTo(bytes, 8 + json.Length + padding);
        string path = temp.Path($"case-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Refusal(string path)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Read(path));
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Problem;
    }

    [Fact]
    public void WellFormedFileLoads()
    {
        var t = SafetensorsFile.Read(Write(TwoTensors, SixteenBytes));
        Assert.Equal([1f, 2f], t["a"].Bytes.Chunk(4).Select(b => BitConverter.ToSingle(b)));
        Assert.Equal([3f, 4f], t["b"].Bytes.Chunk(4).Select(b => BitConverter.ToSingle(b)));
    }

    [Fact]
    public void HeaderLengthOneByteShortIsRefused()
    {
        // The header ends inside its own padding: the JSON still parses, but every tensor would start one byte early.
        string header = TwoTensors + "  ";
        Assert.NotEqual(0, (header.Length + 8) % 8);
        Assert.Contains("cover 16 bytes but the data section after the header has 17", Refusal(Write(header, SixteenBytes, lengthDelta: -1)));
    }

    [Fact]
    public void HeaderLengthIntoTheDataIsRefused() =>
        Assert.Contains("not valid JSON", Refusal(Write(TwoTensors, SixteenBytes, lengthDelta: 2)));

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""", "leave a gap after the start of the data section")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "leave a gap after tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "overlap tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", "cover 12 bytes but the data section after the header has 16")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[8,20]}}""", "fall outside the 16-byte data section")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[8,16]}}""", "needs 12")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "fall outside")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}}""", "names 'a' twice")]
    [InlineData("""{"a":{"dtype":"F31","shape":[4],"data_offsets":[0,16]}}""", "unsupported dtype 'F31'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}""", "invalid dimension")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}}""", "invalid dimension")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}""", "shape overflows")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16,32]}}""", "lacks a valid dtype, shape or data_offsets")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4]}}""", "lacks a valid dtype, shape or data_offsets")]
    [InlineData("""{"__metadata__":{"format":1},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "is not a string")]
    [InlineData("""{"__metadata__":["pt"],"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "not an object of strings")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}x""", "not valid JSON")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],}}""", "not valid JSON")]
    [InlineData("""[{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}]""", "not a JSON object")]
    public void MalformedHeaderIsRefused(string header, string problem) => Assert.Contains(problem, Refusal(Write(header, SixteenBytes)));

    [Fact]
    public void HeaderLengthBeyondTheFileOrTheFormatLimitIsRefused()
    {
        Assert.Contains("after the length field", Refusal(Write(TwoTensors, SixteenBytes, lengthDelta: 1000)));
        Assert.Contains("over the 100000000-byte limit", Refusal(Write(TwoTensors, SixteenBytes, lengthDelta: 100_000_000)));
    }

    [Fact]
    public void InvalidUtf8AndByteOrderMarkAreRefused()
    {
        byte[] bad = Encoding.UTF8.GetBytes(TwoTensors.Replace("\"b\"", "\"\u00e9\""));
        bad[Array.IndexOf(bad, (byte)0xC3) + 1] = 0x28; // a lead byte followed by ASCII: not UTF-8
        Assert.Contains("not valid UTF-8", Refusal(Write("", SixteenBytes, rawHeader: bad)));
        byte[] bom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(TwoTensors)];
        Assert.Contains("not valid JSON", Refusal(Write("", SixteenBytes, rawHeader: bom)));
    }

    [Theory]
    // What the reference accepts: whitespace around the object, tensors listed out of offset order, empty tensors
    // sharing an offset, a null __metadata__, fields it does not know, and a file without tensors.
    [InlineData("""  {"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""" + "\n", 16)]
    [InlineData("""{"__metadata__":null,"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"f":{"dtype":"I64","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"note":"x"}}""", 16)]
    [InlineData("""{"__metadata__":{"format":"pt"}}""", 0)]
    public void WhatTheReferenceAcceptsLoads(string header, int dataBytes)
    {
        var tensors = SafetensorsFile.Read(Write(header, SixteenBytes[..dataBytes]));
        Assert.Equal(dataBytes, tensors.Values.Sum(t => t.Bytes.Length));
    }
}
