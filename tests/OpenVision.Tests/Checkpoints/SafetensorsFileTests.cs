using OpenVision.Checkpoints;

namespace OpenVision.Tests.Checkpoints;

public class SafetensorsFileTests
{
    [Fact]
    public void ReadsReferenceWeights()
    {
        var tensors = SafetensorsFile.Read(ReferenceData.Path("models", "openvision-vit-tiny-patch16-160", "open_clip_model.safetensors"));
        Assert.Equal(300, tensors.Count);
        Assert.Equal(new long[] { 192, 3, 16, 16 }, tensors["visual.conv1.weight"].Shape);
        Assert.Equal(TensorDType.F32, tensors["logit_scale"].DType);
        Assert.Empty(tensors["logit_scale"].Shape);
        Assert.Equal(Math.Log(100), BitConverter.ToSingle(tensors["logit_scale"].Bytes), 5);
    }

    [Fact]
    public void RoundTripsThroughWriter()
    {
        var original = new Dictionary<string, TensorData>
        {
            ["b"] = new(TensorDType.F64, [2], BitConverter.GetBytes(1.5).Concat(BitConverter.GetBytes(-2.0)).ToArray()),
            ["a"] = new(TensorDType.I64, [1, 1], BitConverter.GetBytes(7L)),
            ["empty"] = new(TensorDType.F32, [0, 3], []),
        };
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ov-st-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsFile.Write(path, original, new Dictionary<string, string> { ["format"] = "pt" });
            var read = SafetensorsFile.Read(path, out var metadata);
            Assert.Equal("pt", metadata["format"]);
            Assert.Equal(original.Keys.Order(), read.Keys.Order());
            foreach (var (k, v) in original)
            {
                Assert.Equal(v.DType, read[k].DType);
                Assert.Equal(v.Shape, read[k].Shape);
                Assert.Equal(v.Bytes, read[k].Bytes);
            }
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("header_overflow.safetensors")]
    [InlineData("truncated.safetensors")]
    [InlineData("overlapping_offsets.safetensors")]
    [InlineData("garbage_header.safetensors")]
    [InlineData("empty.safetensors")]
    public void RejectsBrokenFilesNamingThem(string file)
    {
        string path = ReferenceData.Path("bad", file);
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Read(path));
        Assert.Contains(file, e.Message);
    }
}
