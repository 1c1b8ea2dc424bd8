using Google.Protobuf;
using OpenVision.Onnx.Proto;

namespace OpenVision.Onnx.Graph;

/// <summary>Appends nodes, initializers, inputs and outputs to an ONNX graph, naming intermediate values uniquely.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto graph;
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private int counter;

    public OnnxGraphBuilder(string name) => graph = new GraphProto { Name = name };

    public GraphProto Graph => graph;

    /// <summary>Bytes held by initializers so far (decides whether weights go to an external file).</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>Declares a graph input; a dimension is a <see cref="long"/> (fixed) or a <see cref="string"/> (symbolic).</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        graph.Input.Add(ValueInfo(Claim(name), type, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> as a graph output named <paramref name="name"/> (an Identity when they differ).</summary>
    public void Output(string value, string name, TensorProto.Types.DataType type, params object[] dims)
    {
        if (value != name) Node("Identity", [value], name);
        graph.Output.Add(ValueInfo(name, type, dims));
    }

    /// <summary>Adds a constant tensor from raw little-endian bytes (not copied: the caller must not change them).</summary>
    public string Initializer(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlyMemory<byte> data)
    {
        var tensor = new TensorProto { Name = Claim(name), DataType = (int)type, RawData = UnsafeByteOperations.UnsafeWrap(data) };
        tensor.Dims.AddRange(dims);
        graph.Initializer.Add(tensor);
        InitializerBytes += data.Length;
        return tensor.Name;
    }

    /// <summary>An int64 constant of shape [values.Length] (shapes, axes, split sizes).</summary>
    public string Int64s(params long[] values) =>
        Initializer(Fresh("i64"), TensorProto.Types.DataType.Int64, [values.Length], ToBytes<long>(values));

    /// <summary>A rank-0 int64 constant (Range's operands).</summary>
    public string Int64Scalar(long value) =>
        Initializer(Fresh("i64"), TensorProto.Types.DataType.Int64, [], ToBytes<long>([value]));

    /// <summary>A scalar constant of the graph's compute type (float32 or float16).</summary>
    public string Scalar(float value, TensorProto.Types.DataType type) => type == TensorProto.Types.DataType.Float16
        ? Initializer(Fresh("f16"), type, [], ToBytes<Half>([(Half)value]))
        : Initializer(Fresh("f32"), type, [], ToBytes<float>([value]));

    /// <summary>Appends a node with one output; returns the output's name.</summary>
    public string Node(string opType, string[] inputs, string? output = null, params OnnxAttribute[] attributes) =>
        Node(opType, inputs, 1, output, attributes)[0];

    /// <summary>Appends a node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] Node(string opType, string[] inputs, int outputs, string? firstOutput = null, params OnnxAttribute[] attributes) =>
        Append(opType, "", inputs, outputs, firstOutput, attributes);

    /// <summary>The domain of ONNX Runtime's contrib operators (fused transformer kernels).</summary>
    public const string RuntimeDomain = "com.microsoft";

    /// <summary>Whether a node of <see cref="RuntimeDomain"/> was added (the model then imports that domain).</summary>
    public bool UsesRuntimeDomain { get; private set; }

    /// <summary>Appends an ONNX Runtime contrib operator (domain com.microsoft, version 1). An empty string in
    /// <paramref name="inputs"/> skips an optional input; <paramref name="outputs"/> says which outputs are wanted (the
    /// others are left unnamed, which ONNX reads as "not produced"). Returns the output names ("" for skipped ones).</summary>
    public string[] RuntimeNode(string opType, string[] inputs, bool[] outputs, params OnnxAttribute[] attributes)
    {
        UsesRuntimeDomain = true;
        return Append(opType, RuntimeDomain, inputs, outputs, null, attributes);
    }

    private string[] Append(string opType, string domain, string[] inputs, int outputs, string? firstOutput, OnnxAttribute[] attributes) =>
        Append(opType, domain, inputs, Enumerable.Repeat(true, outputs).ToArray(), firstOutput, attributes);

    private string[] Append(string opType, string domain, string[] inputs, bool[] outputs, string? firstOutput, OnnxAttribute[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh(opType) };
        if (domain.Length > 0) node.Domain = domain;
        node.Input.AddRange(inputs);
        var produced = new string[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
            produced[i] = !outputs[i] ? "" : Claim(i == 0 && firstOutput is not null ? firstOutput : Fresh(opType.ToLowerInvariant()));
        node.Output.AddRange(produced);
        foreach (var attribute in attributes) node.Attribute.Add(attribute.ToProto());
        graph.Node.Add(node);
        return produced;
    }

    /// <summary>A name not used yet, derived from <paramref name="hint"/> (values claim it when they are added).</summary>
    public string Fresh(string hint)
    {
        string name;
        do name = $"{hint}_{counter++}"; while (names.Contains(name));
        return name;
    }

    private string Claim(string name)
    {
        if (!names.Add(name)) throw new InvalidOperationException($"ONNX value name '{name}' used twice");
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                long v => new TensorShapeProto.Types.Dimension { DimValue = v },
                int v => new TensorShapeProto.Types.Dimension { DimValue = v },
                string p => new TensorShapeProto.Types.Dimension { DimParam = p },
                _ => throw new ArgumentException($"dimension {d} is neither a number nor a name"),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    /// <summary>Little-endian bytes of unmanaged values (x64 and arm64 are little-endian; big-endian hosts are refused).</summary>
    public static byte[] ToBytes<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray();
    }
}
