using OpenVision.Checkpoints;

namespace OpenVision.Tests.Checkpoints;

public class NonFiniteWeightsTests
{
    private static TensorData F32(params float[] values) => new(TensorDType.F32, [values.Length], values.SelectMany(BitConverter.GetBytes).ToArray());

    [Fact]
    public void CountsNaNAndInfinityInEveryFloatType()
    {
        Assert.Equal((1L, 2L), NonFiniteWeights.Count(F32(1, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue)));
        var f64 = new TensorData(TensorDType.F64, [3], new[] { double.NaN, 0, double.NegativeInfinity }.SelectMany(BitConverter.GetBytes).ToArray());
        Assert.Equal((1L, 1L), NonFiniteWeights.Count(f64));
        var f16 = new TensorData(TensorDType.F16, [3], new[] { Half.NaN, Half.PositiveInfinity, Half.MaxValue }.SelectMany(h => BitConverter.GetBytes(h)).ToArray());
        Assert.Equal((1L, 1L), NonFiniteWeights.Count(f16));
        // bfloat16 is the upper half of a float32.
        ushort Bf16(float f) => (ushort)(BitConverter.SingleToUInt32Bits(f) >> 16);
        var bf16 = new TensorData(TensorDType.BF16, [4], new[] { Bf16(float.NaN), Bf16(float.NegativeInfinity), Bf16(3e38f), Bf16(-1) }.SelectMany(BitConverter.GetBytes).ToArray());
        Assert.Equal((1L, 1L), NonFiniteWeights.Count(bf16));
        // Integers whose bit patterns would be NaN as floats are not weights of a float type.
        Assert.Equal((0L, 0L), NonFiniteWeights.Count(new TensorData(TensorDType.I32, [1], BitConverter.GetBytes(-1))));
    }

    [Fact]
    public void ModelLoadRefusesNonFiniteWeightsNamingFileAndTensorUnlessAllowed()
    {
        using var folder = TinyCheckpoints.NewModelFolder();
        var tensors = TinyCheckpoints.PlainTensors();
        var proj = tensors["visual.proj"];
        var bytes = (byte[])proj.Bytes.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, 4);
        BitConverter.GetBytes(float.PositiveInfinity).CopyTo(bytes, 8);
        tensors["visual.proj"] = new TensorData(proj.DType, proj.Shape, bytes);
        string path = folder.Path("nan.safetensors");
        SafetensorsFile.Write(path, tensors);

        var e = Assert.Throws<CheckpointFormatException>(() => ModelFactory.Load(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("visual.proj (1 NaN, 1 infinite)", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        var features = TinyCheckpoints.LoadFeatures(path, new ModelLoadOptions { AllowNonFiniteWeights = true });
        Assert.Contains(features, v => !float.IsFinite(v));
    }
}
