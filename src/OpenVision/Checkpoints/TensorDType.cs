namespace OpenVision.Checkpoints;

/// <summary>Element types that checkpoint files can hold, named as in safetensors headers.</summary>
public enum TensorDType
{
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16.</summary>
    BF16,
    /// <summary>IEEE single precision.</summary>
    F32,
    /// <summary>IEEE double precision.</summary>
    F64,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Boolean stored as one byte.</summary>
    Bool,
}

/// <summary>Sizes and names of <see cref="TensorDType"/> values.</summary>
public static class TensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => 2,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F64 or TensorDType.I64 => 8,
        _ => 1,
    };

    /// <summary>The safetensors header name ("F32", "BOOL", ...).</summary>
    public static string SafetensorsName(this TensorDType dtype) => dtype == TensorDType.Bool ? "BOOL" : dtype.ToString();

    /// <summary>Parses a safetensors header dtype name; returns false for names we do not support.</summary>
    public static bool TryParseSafetensors(string name, out TensorDType dtype)
    {
        dtype = default;
        if (name == "BOOL") { dtype = TensorDType.Bool; return true; }
        return Enum.TryParse(name, ignoreCase: false, out dtype) && name == dtype.ToString();
    }
}
