using OpenVision.Checkpoints;
using OpenVision.IO;

namespace OpenVision.Tests.IO;

public class NpyFileTests
{
    [Theory]
    [InlineData(TensorDType.F32, new long[] { 2, 3 })]
    [InlineData(TensorDType.F64, new long[] { 4 })]
    [InlineData(TensorDType.I64, new long[] { 1, 80 })]
    [InlineData(TensorDType.F32, new long[] { })]
    public void RoundTrips(TensorDType dtype, long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = Enumerable.Range(0, (int)(count * dtype.ElementSize())).Select(i => (byte)(i * 7)).ToArray();
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ov-{Guid.NewGuid():N}.npy");
        try
        {
            NpyFile.Write(path, new TensorData(dtype, shape, bytes));
            var raw = File.ReadAllBytes(path);
            Assert.Equal(0, (raw.Length - bytes.Length) % 64);            // header padded like NumPy's
            var read = NpyFile.Read(path);
            Assert.Equal(dtype, read.DType);
            Assert.Equal(shape, read.Shape);
            Assert.Equal(bytes, read.Bytes);
        }
        finally { File.Delete(path); }
    }

    // Bytes as numpy 1.24 writes np.arange(6, dtype='<f4').reshape(2, 3).
    [Fact]
    public void ReadsNumpyWrittenHeader()
    {
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        header += new string(' ', 128 - 10 - header.Length - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        bytes.AddRange(System.Text.Encoding.Latin1.GetBytes(header));
        for (int i = 0; i < 6; i++) bytes.AddRange(BitConverter.GetBytes((float)i));
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ov-{Guid.NewGuid():N}.npy");
        try
        {
            File.WriteAllBytes(path, bytes.ToArray());
            var read = NpyFile.Read(path);
            Assert.Equal(new long[] { 2, 3 }, read.Shape);
            Assert.Equal(5f, BitConverter.ToSingle(read.Bytes, 20));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TruncatedFileIsAClearError()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ov-{Guid.NewGuid():N}.npy");
        try
        {
            NpyFile.Write(path, new TensorData(TensorDType.F32, [4], new byte[16]));
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
            var e = Assert.Throws<NpyFormatException>(() => NpyFile.Read(path));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }

    // An .npy file is input data, not a checkpoint: its errors are NpyFormatException (the CLI's exit 1), never
    // CheckpointFormatException (exit 2), and a shape whose byte count overflows is reported, not thrown as arithmetic.
    [Theory]
    [InlineData("(1000000, 3, 64, 64)", "holds 16 data bytes but shape (1000000, 3, 64, 64) of F32 needs 49152000000")]
    [InlineData("(4611686018427387904, 4)", "shape (4611686018427387904, 4) of F32 is too large to hold")]
    [InlineData("(2L, 2L)", "unreadable .npy shape (2L, 2L)")]
    [InlineData("(-4,)", "unreadable .npy shape (-4,)")]
    public void AHeaderThatDoesNotFitTheDataIsAnInputError(string shape, string problem)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ov-{Guid.NewGuid():N}.npy");
        try
        {
            using (var file = File.Create(path))
            {
                string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n";
                file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
                file.Write(System.Text.Encoding.Latin1.GetBytes(header));
                file.Write(new byte[16]);
            }
            var e = Assert.Throws<NpyFormatException>(() => NpyFile.Read(path));
            Assert.Equal($"{path}: {problem}", e.Message);
        }
        finally { File.Delete(path); }
    }
}
