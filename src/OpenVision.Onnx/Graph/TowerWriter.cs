using OpenVision.Checkpoints;
using OpenVision.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;
using DataType = OpenVision.Onnx.Proto.TensorProto.Types.DataType;

namespace OpenVision.Onnx.Graph;

/// <summary>Writes the layers the two towers share (LayerNorm, linear, attention, MLP, residual blocks) as ONNX
/// nodes, reading weights from the model's state dict by their open_clip key names.</summary>
internal sealed class TowerWriter
{
    private readonly IReadOnlyDictionary<string, Tensor> state;

    public TowerWriter(OnnxGraphBuilder graph, IReadOnlyDictionary<string, Tensor> state, OnnxPrecision precision, bool runtimeOps = false)
    {
        Graph = graph;
        this.state = state;
        Precision = precision;
        RuntimeOps = runtimeOps && precision == OnnxPrecision.Float32;
    }

    /// <summary>Attention is written as ONNX Runtime's fused com.microsoft Attention operator (float32 graphs only: the
    /// float16 ones target other execution providers and the int8 ones quantise the QKV MatMul themselves).</summary>
    public bool RuntimeOps { get; }

    public OnnxGraphBuilder Graph { get; }

    public OnnxPrecision Precision { get; }

    /// <summary>Element type of activations and floating-point weights.</summary>
    public DataType ComputeType => Precision == OnnxPrecision.Float16 ? DataType.Float16 : DataType.Float;

    /// <summary>A float32 CPU copy of state-dict tensor <paramref name="key"/> (a copy: callers may change and dispose it).</summary>
    public Tensor State(string key) => state.TryGetValue(key, out var t)
        ? t.detach().to(ScalarType.Float32).cpu().clone()
        : throw new KeyNotFoundException($"the model has no tensor '{key}'");

    /// <summary>Adds a floating-point tensor as an initializer in the compute type.</summary>
    public string Constant(string name, Tensor value)
    {
        using var converted = value.to(ComputeType == DataType.Float16 ? ScalarType.Float16 : ScalarType.Float32).contiguous();
        var data = TensorData.FromTorch(converted);
        return Graph.Initializer(name, ComputeType, data.Shape, data.Bytes);
    }

    /// <summary>Adds state-dict tensor <paramref name="key"/> as an initializer in the compute type.</summary>
    public string Weight(string key)
    {
        using var value = State(key);
        return Constant(key, value);
    }

    /// <summary>A scalar in the compute type.</summary>
    public string Scalar(float value) => Graph.Scalar(value, ComputeType);

    /// <summary><c>x @ weightᵀ + bias</c> for a PyTorch Linear weight [out, in]; int8 precision quantises it here.</summary>
    public string Linear(string x, string name, Tensor weight, Tensor? bias)
    {
        using var transposed = weight.t().contiguous();                           // [in, out]: MatMul's layout
        string product = Precision == OnnxPrecision.Int8
            ? QuantizedMatMul(x, name, transposed)
            : Graph.Node("MatMul", [x, Constant(name + ".weight_t", transposed)]);
        return bias is null ? product : Graph.Node("Add", [product, Constant(name + ".bias", bias)]);
    }

    /// <summary><c>x @ matrix</c> for an [in, out] projection (visual.proj, text_projection), never quantised: it is small
    /// and the features leave the model through it.</summary>
    public string Project(string x, string key) => Graph.Node("MatMul", [x, Weight(key)]);

    // The graph onnxruntime's own quantize_dynamic writes (which its optimizer fuses into DynamicQuantizeMatMul):
    // uint8 activations with a per-call scale and zero point, int8 weights with one symmetric scale per output column,
    // in its reduce_range form (−64…64). On x86 CPUs without VNNI, ONNX Runtime multiplies uint8 by int8 with vpmaddubsw,
    // which adds each pair of products into 16 bits with saturation: 255 · 127 · 2 overflows, and on a 2-core AVX2 EPYC
    // the text features of the test models came out 0.11–0.22 off (relative), over the stated 1e-1. 255 · 64 · 2 = 32,640
    // fits, so every CPU computes the same exact integer sums.
    internal const int WeightLevels = 64;

    private string QuantizedMatMul(string x, string name, Tensor weight)
    {
        using var scope = NewDisposeScope();
        // Numbers go to TorchSharp as Scalars held until the operator returns: its temporaries can be freed by a
        // collection on another thread while libtorch still reads them.
        using var levels = ((float)WeightLevels).ToScalar();
        using var zero = 0.ToScalar();
        using var lowest = (-WeightLevels).ToScalar();
        using var highest = WeightLevels.ToScalar();
        var scale = weight.abs().amax([0]).div(levels);                           // [out]
        scale = torch.where(scale.gt(zero), scale, torch.ones_like(scale));
        var quantized = (weight / scale).round().clamp(lowest, highest).to(ScalarType.Int8);
        var q = TensorData.FromTorch(quantized);
        var s = TensorData.FromTorch(scale.contiguous());
        string qWeight = Graph.Initializer(name + ".weight_q", DataType.Int8, q.Shape, q.Bytes);
        string qScale = Graph.Initializer(name + ".weight_scale", DataType.Float, s.Shape, s.Bytes);
        string qZero = Graph.Initializer(name + ".weight_zero_point", DataType.Int8, s.Shape, new byte[s.Shape[0]]);
        var (xq, xScale, xZero) = Graph.Node("DynamicQuantizeLinear", [x], 3) switch { var o => (o[0], o[1], o[2]) };
        string integer = Graph.Node("MatMulInteger", [xq, qWeight, xZero, qZero]);
        string real = Graph.Node("Cast", [integer], null, new OnnxAttribute("to", (long)DataType.Float));
        string combined = Graph.Node("Mul", [xScale, qScale]);
        return Graph.Node("Mul", [real, combined]);
    }

    /// <summary>LayerNormalization over the last axis (opset 17); float16 graphs still accumulate in float32.</summary>
    public string LayerNorm(string x, string prefix, double eps) =>
        Graph.Node("LayerNormalization", [x, Weight(prefix + ".weight"), Weight(prefix + ".bias")], null,
            new OnnxAttribute("axis", -1L), new OnnxAttribute("epsilon", (float)eps));

    /// <summary>One pre-norm residual block: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.</summary>
    public string Block(string x, string prefix, int width, int heads, double eps, bool tanhGelu)
    {
        string normed = LayerNorm(x, prefix + ".ln_1", eps);
        string attended = RuntimeOps ? FusedAttention(normed, prefix + ".attn", width, heads) : Attention(normed, prefix + ".attn", width, heads);
        x = Graph.Node("Add", [x, attended]);
        string mlp = Mlp(LayerNorm(x, prefix + ".ln_2", eps), prefix + ".mlp", tanhGelu);
        return Graph.Node("Add", [x, mlp]);
    }

    // ONNX Runtime's com.microsoft Attention: x [N, L, W] @ in_proj [W, 3W] + bias, per-head softmax(q·kᵀ)·v and the heads
    // merged back to [N, L, W] in one kernel, then out_proj. Its optimiser forms this node only from BERT's layout (three
    // separate projections and a mask), so the graph writes it; it replaces the Split, the Reshape/Transpose pairs, the two
    // batched MatMuls, Softmax and the head merge of Attention() below: 13 of the 25 nodes per block, and as many thread
    // pool hand-offs. 1/√hd is folded into Q as there (scale 1).
    private string FusedAttention(string x, string prefix, int width, int heads)
    {
        var (weight, bias) = ScaledInProjection(prefix, width, heads);
        using (weight)
        using (bias)
        using (var transposed = weight.t().contiguous())
        {
            string attended = Graph.RuntimeNode("Attention", [x, Constant(prefix + ".in_proj.weight_t", transposed), Constant(prefix + ".in_proj.bias", bias)],
                [true], new OnnxAttribute("num_heads", (long)heads), new OnnxAttribute("scale", 1f))[0];
            using var outWeight = State(prefix + ".out_proj.weight");
            using var outBias = State(prefix + ".out_proj.bias");
            return Linear(attended, prefix + ".out_proj", outWeight, outBias);
        }
    }

    /// <summary>Multi-head self-attention with nn.MultiheadAttention's weights; no mask (neither tower uses one).</summary>
    public string Attention(string x, string prefix, int width, int heads)
    {
        int headWidth = width / heads;
        var (weight, bias) = ScaledInProjection(prefix, width, heads);
        using var disposeWeight = weight;
        using var disposeBias = bias;
        string qkv = Linear(x, prefix + ".in_proj", weight, bias);                // [N, L, 3W]
        var parts = Graph.Node("Split", [qkv, Graph.Int64s(width, width, width)], 3, null, new OnnxAttribute("axis", -1L));
        string headShape = Graph.Int64s(0, 0, heads, headWidth);
        string Heads(string t, long[] perm) =>
            Graph.Node("Transpose", [Graph.Node("Reshape", [t, headShape])], null, new OnnxAttribute("perm", perm));
        string q = Heads(parts[0], [0, 2, 1, 3]);                                  // [N, H, L, hd]
        string kT = Heads(parts[1], [0, 2, 3, 1]);                                 // [N, H, hd, L]
        string v = Heads(parts[2], [0, 2, 1, 3]);                                  // [N, H, L, hd]
        string weights = Graph.Node("Softmax", [Graph.Node("MatMul", [q, kT])], null, new OnnxAttribute("axis", -1L));
        string merged = Graph.Node("Transpose", [Graph.Node("MatMul", [weights, v])], null, new OnnxAttribute("perm", new long[] { 0, 2, 1, 3 }));
        merged = Graph.Node("Reshape", [merged, Graph.Int64s(0, 0, width)]);       // [N, L, W], heads in order
        using var outWeight = State(prefix + ".out_proj.weight");
        using var outBias = State(prefix + ".out_proj.bias");
        return Linear(merged, prefix + ".out_proj", outWeight, outBias);
    }

    // in_proj weight [3W, W] (rows Q, K, V) and bias with softmax's 1/sqrt(hd) folded into the Q rows: one fewer node per
    // block (exact when hd is a power of 4).
    private (Tensor Weight, Tensor Bias) ScaledInProjection(string prefix, int width, int heads)
    {
        var weight = State(prefix + ".in_proj_weight");
        var bias = State(prefix + ".in_proj_bias");
        using var scale = (1f / MathF.Sqrt(width / heads)).ToScalar();
        using (torch.no_grad())
        using (var queryWeight = weight.narrow(0, 0, width))
        using (var queryBias = bias.narrow(0, 0, width))
        {
            queryWeight.mul_(scale);
            queryBias.mul_(scale);
        }
        return (weight, bias);
    }

    /// <summary><c>c_proj(gelu(c_fc(x)))</c>: exact GELU in the vision tower, tanh GELU in the text tower.</summary>
    public string Mlp(string x, string prefix, bool tanhGelu)
    {
        using var fcWeight = State(prefix + ".c_fc.weight");
        using var fcBias = State(prefix + ".c_fc.bias");
        using var projWeight = State(prefix + ".c_proj.weight");
        using var projBias = State(prefix + ".c_proj.bias");
        string hidden = Linear(x, prefix + ".c_fc", fcWeight, fcBias);
        string activated = tanhGelu ? TanhGelu(hidden) : ExactGelu(hidden);
        return Linear(activated, prefix + ".c_proj", projWeight, projBias);
    }

    // Opset 17 has no Gelu op (it arrived in opset 20); these are the forms onnxruntime fuses back into one kernel.
    // 0.5·x·(1 + erf(x/√2))
    private string ExactGelu(string x)
    {
        string erf = Graph.Node("Erf", [Graph.Node("Div", [x, Scalar(MathF.Sqrt(2f))])]);
        string sum = Graph.Node("Add", [erf, Scalar(1f)]);
        return Graph.Node("Mul", [Graph.Node("Mul", [x, sum]), Scalar(0.5f)]);
    }

    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    private string TanhGelu(string x)
    {
        string cube = Graph.Node("Mul", [Graph.Node("Mul", [x, x]), x]);
        string inner = Graph.Node("Add", [x, Graph.Node("Mul", [cube, Scalar(0.044715f)])]);
        string tanh = Graph.Node("Tanh", [Graph.Node("Mul", [inner, Scalar((float)Math.Sqrt(2 / Math.PI))])]);
        string sum = Graph.Node("Add", [tanh, Scalar(1f)]);
        return Graph.Node("Mul", [Graph.Node("Mul", [x, sum]), Scalar(0.5f)]);
    }
}
