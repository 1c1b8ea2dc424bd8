using Microsoft.ML.OnnxRuntime;
using OpenVision.Models;
using OpenVision.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks.Onnx;

/// <summary>How an external graph's output compares with TorchSharp's encode_image on the same pixels and weights.</summary>
/// <param name="RelativeError">max |graph − TorchSharp| / max |TorchSharp| (the project's parity measure).</param>
/// <param name="OutputNormalized">The graph's output matched L2-normalised features better than raw ones (a graph that
/// includes the normalisation, as OpenVisionEncoder's output does); compared against those.</param>
/// <param name="Bound">The largest error that counts as the same computation (float32: the export validation's bound).</param>
public sealed record ExternalGraphCheck(double RelativeError, bool OutputNormalized, double Bound)
{
    /// <summary>Whether the graph computes our encode_image (NaN never matches).</summary>
    public bool Matches => RelativeError <= Bound;
}

/// <summary>A vision graph written by another exporter (benchmarks/pytorch/export_onnx.py's torch.onnx export, say) in
/// a plain ONNX Runtime session: a second anchor for <see cref="OnnxBenchmark"/> that does not depend on our exporter.
/// One float input [N, 3, S, S], the first output is taken as the image features [N, E].</summary>
public sealed class ExternalVisionGraph : IDisposable
{
    private ExternalVisionGraph(string path, InferenceSession session)
    {
        Path = path;
        Session = session;
        InputName = session.InputNames[0];
        InputShape = session.InputMetadata[InputName].Dimensions.Select(d => (long)d).ToArray();
        OutputName = session.OutputNames[0];
        var metadata = session.ModelMetadata;
        Producer = string.IsNullOrWhiteSpace(metadata.ProducerName) ? "unknown" : metadata.ProducerName.Trim();
        Label = "ort-" + new string(Producer.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-').ToArray());
    }

    /// <summary>Opens <paramref name="path"/> with the session settings the backend uses.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not an ONNX model ONNX Runtime can load, or not one float input of rank 4.</exception>
    public static ExternalVisionGraph Open(string path, OnnxRuntimeOptions options)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        InferenceSession session;
        using (var sessionOptions = options.CreateSessionOptions())
        {
            try { session = new InferenceSession(path, sessionOptions); }
            catch (OnnxRuntimeException e) { throw new InvalidDataException($"{path}: ONNX Runtime cannot load it ({e.Message})", e); }
        }
        try
        {
            if (session.InputMetadata.Count != 1 || session.OutputNames.Count < 1)
                throw new InvalidDataException($"{path}: a vision graph has one input (pixels) and an output; this one has {session.InputMetadata.Count} inputs and {session.OutputNames.Count} outputs");
            var input = session.InputMetadata.Values.First();
            if (input.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float || input.Dimensions.Length != 4)
                throw new InvalidDataException($"{path}: the input must be float32 [N, 3, S, S], not {input.ElementDataType} of rank {input.Dimensions.Length}");
            return new ExternalVisionGraph(path, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The .onnx file.</summary>
    public string Path { get; }

    /// <summary>The plain session (the backend's settings).</summary>
    public InferenceSession Session { get; }

    /// <summary>The graph's only input.</summary>
    public string InputName { get; }

    /// <summary>Declared input shape; −1 marks a symbolic dimension.</summary>
    public long[] InputShape { get; }

    /// <summary>The output taken as image features (the first).</summary>
    public string OutputName { get; }

    /// <summary>The file's producer_name (torch.onnx writes "pytorch", our exporter "OpenVision.NET").</summary>
    public string Producer { get; }

    /// <summary>Benchmark task label: <c>ort-</c> and the producer (e.g. <c>ort-pytorch</c>).</summary>
    public string Label { get; }

    /// <summary>Throws unless the graph takes [<paramref name="batchSize"/>, 3, S, S] (a fixed batch axis or another
    /// size would make ONNX Runtime fail mid-benchmark with a message naming only dimension indices).</summary>
    public void CheckInput(int batchSize, int channels, int imageSize)
    {
        long[] wanted = [batchSize, channels, imageSize, imageSize];
        for (int i = 0; i < 4; i++)
            if (InputShape[i] >= 0 && InputShape[i] != wanted[i])
                throw new InvalidDataException($"{Path}: input '{InputName}' is [{string.Join(", ", InputShape.Select(d => d < 0 ? "any" : d.ToString()))}], " +
                    $"the benchmark feeds [{string.Join(", ", wanted)}]" + (i == 0 ? "; export with a dynamic batch axis" : $"; export at the model's size ({imageSize} px)"));
    }

    /// <summary>Runs the graph and TorchSharp's <see cref="OpenVisionModel.EncodeImage"/> on the same random pixels
    /// (two images, so a batch axis frozen at 1 shows) and compares the outputs.</summary>
    /// <param name="model">The model whose weights the graph should hold.</param>
    /// <param name="imageSize">Pixels per side.</param>
    /// <param name="bound">Largest relative error that counts as the same computation.</param>
    public ExternalGraphCheck Check(OpenVisionModel model, int imageSize, double bound)
    {
        ArgumentNullException.ThrowIfNull(model);
        int channels = model.Config.VisionCfg.InChannels;
        CheckInput(2, channels, imageSize);
        using var scope = NewDisposeScope();
        var pixels = randn(2, channels, imageSize, imageSize, generator: new Generator(1));
        Tensor expected;
        using (no_grad()) expected = model.EncodeImage(pixels).to(ScalarType.Float32).cpu();
        var data = pixels.data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(data, [2, channels, imageSize, imageSize]);
        using var runOptions = new RunOptions();
        using var outputs = Session.Run(runOptions, [InputName], [input], [OutputName]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 2 || shape[0] != 2 || shape[1] != expected.shape[1])
            throw new InvalidDataException($"{Path}: output '{OutputName}' is [{string.Join(", ", shape)}] for 2 images, not [2, {expected.shape[1]}]: not this model's encode_image");
        var actual = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        double raw = RelativeError(actual, expected);
        double normalized;
        using (var unit = nn.functional.normalize(expected, dim: -1)) normalized = RelativeError(actual, unit);
        // NaN compares false both ways: the raw error (NaN) is reported and never matches.
        return normalized < raw ? new ExternalGraphCheck(normalized, true, bound) : new ExternalGraphCheck(raw, false, bound);
    }

    // The project's parity measure, as the export validation computes it: max |actual − expected| / max |expected|.
    private static double RelativeError(float[] actual, Tensor expected)
    {
        using var contiguous = expected.detach().to(ScalarType.Float32).cpu().contiguous();
        var values = contiguous.data<float>();
        if (actual.Length != values.Count) throw new ArgumentException($"{actual.Length} values vs {values.Count} expected");
        double diff = 0, scale = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - values[i]));
            scale = Math.Max(scale, Math.Abs((double)values[i]));
        }
        return diff / scale;
    }

    /// <inheritdoc/>
    public void Dispose() => Session.Dispose();
}
