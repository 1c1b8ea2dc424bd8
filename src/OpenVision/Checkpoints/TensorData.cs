using TorchSharp;

namespace OpenVision.Checkpoints;

/// <summary>One named tensor as raw little-endian bytes, independent of any tensor library.</summary>
public sealed class TensorData
{
    /// <summary>Creates a tensor record; the byte count must equal the element count times the element size.</summary>
    public TensorData(TensorDType dtype, long[] shape, byte[] bytes)
    {
        long elements = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", shape)}]");
            elements = checked(elements * d);
        }
        if (checked(elements * dtype.ElementSize()) != bytes.LongLength)
            throw new ArgumentException($"{bytes.LongLength} bytes do not hold a {dtype} tensor of shape [{string.Join(", ", shape)}]");
        DType = dtype;
        Shape = shape;
        Bytes = bytes;
    }

    /// <summary>Element type.</summary>
    public TensorDType DType { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public long[] Shape { get; }

    /// <summary>Raw little-endian data in C (row-major) order.</summary>
    public byte[] Bytes { get; }

    /// <summary>Number of elements.</summary>
    public long ElementCount => Bytes.LongLength / DType.ElementSize();

    /// <summary>Copies the data into a new CPU TorchSharp tensor.</summary>
    public torch.Tensor ToTorch()
    {
        var tensor = torch.empty(Shape, dtype: ToScalarType(DType));
        if (Bytes.Length > 0) tensor.bytes = Bytes;
        return tensor;
    }

    /// <summary>Copies a TorchSharp tensor (any device) into a record.</summary>
    public static TensorData FromTorch(torch.Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        return new TensorData(FromScalarType(cpu.dtype), cpu.shape, cpu.bytes.ToArray());
    }

    /// <summary>Maps our dtype to TorchSharp's.</summary>
    public static torch.ScalarType ToScalarType(TensorDType dtype) => dtype switch
    {
        TensorDType.F16 => torch.ScalarType.Float16,
        TensorDType.BF16 => torch.ScalarType.BFloat16,
        TensorDType.F32 => torch.ScalarType.Float32,
        TensorDType.F64 => torch.ScalarType.Float64,
        TensorDType.I8 => torch.ScalarType.Int8,
        TensorDType.I16 => torch.ScalarType.Int16,
        TensorDType.I32 => torch.ScalarType.Int32,
        TensorDType.I64 => torch.ScalarType.Int64,
        TensorDType.U8 => torch.ScalarType.Byte,
        TensorDType.Bool => torch.ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Maps TorchSharp's dtype to ours.</summary>
    public static TensorDType FromScalarType(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float16 => TensorDType.F16,
        torch.ScalarType.BFloat16 => TensorDType.BF16,
        torch.ScalarType.Float32 => TensorDType.F32,
        torch.ScalarType.Float64 => TensorDType.F64,
        torch.ScalarType.Int8 => TensorDType.I8,
        torch.ScalarType.Int16 => TensorDType.I16,
        torch.ScalarType.Int32 => TensorDType.I32,
        torch.ScalarType.Int64 => TensorDType.I64,
        torch.ScalarType.Byte => TensorDType.U8,
        torch.ScalarType.Bool => TensorDType.Bool,
        _ => throw new NotSupportedException($"tensor type {type} cannot be stored"),
    };
}
