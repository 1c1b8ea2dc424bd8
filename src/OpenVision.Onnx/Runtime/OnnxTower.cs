using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace OpenVision.Onnx.Runtime;

/// <summary>One exported tower in an ONNX Runtime session: one input, named outputs, float results copied out.</summary>
internal sealed class OnnxTower : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();

    public OnnxTower(string path, OnnxRuntimeOptions options)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        using var sessionOptions = options.CreateSessionOptions();
        session = new InferenceSession(path, sessionOptions);
        if (session.InputMetadata.Count != 1) throw new InvalidDataException($"{path}: expected one input, found {session.InputMetadata.Count}");
        var (name, meta) = session.InputMetadata.First();
        InputName = name;
        InputShape = meta.Dimensions.Select(d => (long)d).ToArray();
        OutputNames = session.OutputNames.ToArray();
        Path = path;
    }

    public string Path { get; }

    public InferenceSession Session => session;

    public string InputName { get; }

    /// <summary>Declared input shape; −1 marks a symbolic (dynamic) dimension.</summary>
    public long[] InputShape { get; }

    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Runs on <paramref name="input"/> (row-major, <paramref name="shape"/>) and returns the requested outputs.</summary>
    public IReadOnlyList<(float[] Data, long[] Shape)> Run<T>(T[] input, long[] shape, IReadOnlyList<string> outputs) where T : unmanaged
    {
        CheckShape(shape);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        return Run(value, outputs);
    }

    /// <summary>Runs on native memory (a TorchSharp tensor's storage: no copy of the input).</summary>
    public unsafe IReadOnlyList<(float[] Data, long[] Shape)> Run(Span<byte> input, TensorElementType type, long[] shape, IReadOnlyList<string> outputs)
    {
        CheckShape(shape);
        fixed (byte* data = input)
        {
            using var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, (IntPtr)data, input.Length);
            return Run(value, outputs);
        }
    }

    private IReadOnlyList<(float[] Data, long[] Shape)> Run(OrtValue value, IReadOnlyList<string> outputs)
    {
        using var results = session.Run(runOptions, [InputName], [value], outputs);
        return results.Select(r => (r.GetTensorDataAsSpan<float>().ToArray(), r.GetTensorTypeAndShape().Shape)).ToList();
    }

    // ONNX Runtime's own message names dimension indices only; say what the model takes.
    public void CheckShape(long[] shape)
    {
        bool ok = shape.Length == InputShape.Length;
        for (int i = 0; ok && i < shape.Length; i++) ok = InputShape[i] < 0 || InputShape[i] == shape[i];
        if (!ok || shape.Any(d => d < 1))
            throw new ArgumentException($"{System.IO.Path.GetFileName(Path)}: input '{InputName}' must be [{string.Join(", ", InputShape.Select(d => d < 0 ? "any" : d.ToString()))}], got [{string.Join(", ", shape)}]");
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}
