namespace OpenVision.Onnx;

/// <summary>Numeric precision of an exported graph. Inputs and outputs are float32 (pixels, features) or int64
/// (token ids) whatever the precision, so every variant of a model is used the same way.</summary>
public enum OnnxPrecision
{
    /// <summary>Float32 weights and compute: the reference export, validated to 1e-4 against TorchSharp.</summary>
    Float32,

    /// <summary>Float16 weights and compute (LayerNormalization accumulates in float32), with Casts at the inputs and outputs.</summary>
    Float16,

    /// <summary>Dynamic int8 quantisation of the transformer's weight MatMuls (per-column symmetric int8 weights in
    /// −64…64, so that CPUs without VNNI cannot saturate their 16-bit pair sums; activations quantised per call by
    /// DynamicQuantizeLinear); everything else float32.</summary>
    Int8,
}
