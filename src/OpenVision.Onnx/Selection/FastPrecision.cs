using OpenVision.Backends;
using OpenVision.IO;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Selection;

/// <summary>The "fast" precision: the fastest on this machine of four paths of the same model, float32 TorchSharp,
/// bfloat16 TorchSharp, float32 ONNX Runtime and int8 ONNX Runtime (dynamic quantisation), all of which kept zero-shot
/// top-1 agreement with float32 at or above 99 % on real images (<see cref="AgreementNote"/>). One path serves every
/// batch size (the highest geometric-mean rate over the measured batch sizes), so all features of a run come from the
/// same arithmetic. The measurement runs on first use and is cached per CPU, model and resolution
/// (<see cref="BackendChoiceCache"/>); float32 stays the default everywhere, and callers opt into this explicitly.</summary>
/// <remarks>Reduced precision changes the features (bf16 about 1e-2 relative, int8 a few 1e-2): agreement was measured
/// on one small trained model and one data set; check yours with <c>openvision bench precision</c> before relying on it.
/// Measuring holds four copies of the weights for a few seconds per batch size; afterwards only the picked path stays.</remarks>
public static class FastPrecision
{
    /// <summary>The paths compared; the first (the default path) wins ties.</summary>
    public static IReadOnlyList<string> Candidates { get; } = ["fp32 torch", "bf16 torch", "fp32 onnx", "int8 onnx"];

    /// <summary>What is known about the accuracy of the candidates (docs/speed.md has the table).</summary>
    public const string AgreementNote = "Zero-shot top-1 agreement with fp32 measured on the 10,000 Fashion-MNIST test images with the demo model " +
        "(24 px, width 96): bf16 99.83 % (99.88-99.95 % where libtorch computes bf16), int8 99.61 % (7-bit weights), fp32 ONNX 100 %; check your model with 'openvision bench precision'.";

    /// <summary>Loads <paramref name="reference"/> on the fastest candidate path.</summary>
    /// <param name="reference">Built-in name, folder, checkpoint file or hf-hub: id.</param>
    /// <param name="options">Load settings; its dtype is ignored (each candidate sets its own).</param>
    /// <param name="imageSize">Run at this resolution instead of the config's.</param>
    /// <param name="runtime">ONNX Runtime session settings (threads, spinning); the precision is the candidate's.</param>
    /// <param name="cache">Where measurements are kept; null for <see cref="CacheFolder.Default"/>.</param>
    /// <param name="remeasure">Measure again even when the cache has a measurement.</param>
    /// <param name="progress">Receives the export steps.</param>
    public static FastPath LoadEncoder(string reference, ModelLoadOptions? options = null, int? imageSize = null, OnnxRuntimeOptions? runtime = null,
        BackendChoiceCache? cache = null, bool remeasure = false, IProgress<string>? progress = null)
    {
        options = (options ?? new ModelLoadOptions()) with { DType = ScalarType.Float32 };
        runtime ??= new OnnxRuntimeOptions();
        cache ??= new BackendChoiceCache(CacheFolder.Default);
        var opened = new List<(string Name, IEncoderBackend Backend)>();
        try
        {
            var float32 = TorchSharpBackend.Load(reference, options, imageSize);
            opened.Add((Candidates[0], float32));
            var cached = remeasure ? null : cache.Load(float32.Config.Name, float32.ImageSize, BackendChoiceMeasurement.CpuIdentity(), Candidates);
            var choice = cached ?? Measure(reference, options, imageSize, runtime, float32, opened, progress);
            if (cached is null) cache.Save(choice);
            string picked = choice.FastestOverall();
            IEncoderBackend backend = opened.FirstOrDefault(o => o.Name == picked).Backend ?? picked switch
            {
                "bf16 torch" => ToBFloat16(float32),
                "fp32 onnx" => OnnxExportCache.OpenBackend(float32.Model, float32.Source, imageSize, runtime with { Precision = OnnxPrecision.Float32 }, progress),
                "int8 onnx" => OnnxExportCache.OpenBackend(float32.Model, float32.Source, imageSize, runtime with { Precision = OnnxPrecision.Int8 }, progress),
                _ => throw new InvalidDataException($"the cached fast-precision measurement names an unknown path '{picked}'"),
            };
            foreach (var (_, other) in opened.Where(o => !ReferenceEquals(o.Backend, backend)).Reverse()) other.Dispose();
            opened.Clear();
            var encoder = backend is OnnxBackend onnx ? OnnxBackend.ToEncoder(onnx) : new OpenVisionEncoder(backend);
            return new FastPath(encoder, picked, choice, cached is not null);
        }
        catch
        {
            foreach (var (_, backend) in Enumerable.Reverse(opened)) backend.Dispose();
            throw;
        }
    }

    // bfloat16 on the already loaded model (converted in place): no second load from disk.
    private static TorchSharpBackend ToBFloat16(TorchSharpBackend float32)
    {
        float32.Model.ToInferenceDType(ScalarType.BFloat16);
        return float32;
    }

    // Opens the other three paths (added to `opened`, so the caller disposes them) and times all four.
    private static BackendChoice Measure(string reference, ModelLoadOptions options, int? imageSize, OnnxRuntimeOptions runtime, TorchSharpBackend float32,
        List<(string Name, IEncoderBackend Backend)> opened, IProgress<string>? progress)
    {
        opened.Add((Candidates[1], TorchSharpBackend.Load(reference, options with { DType = ScalarType.BFloat16 }, imageSize)));
        // One export holds both graphs: the int8 backend owns a temporary export (random weights), so it is opened first and disposed last.
        var int8 = OnnxExportCache.OpenBackend(float32.Model, float32.Source, imageSize, runtime with { Precision = OnnxPrecision.Int8 }, progress);
        opened.Insert(0, (Candidates[3], int8));
        opened.Add((Candidates[2], OnnxBackend.Load(int8.Folder, runtime with { Precision = OnnxPrecision.Float32 })));
        var ordered = Candidates.Select(c => opened.First(o => o.Name == c)).ToList();
        return BackendChoiceMeasurement.Measure(ordered);
    }
}
