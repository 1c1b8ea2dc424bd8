using static TorchSharp.torch;

namespace OpenVision.Onnx;

/// <summary>What <see cref="OnnxExporter.Export"/> writes and how it validates.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Also write float16 graphs (<c>vision.fp16.onnx</c>, <c>text.fp16.onnx</c>).</summary>
    public bool Float16 { get; init; }

    /// <summary>Also write dynamically quantised int8 graphs (<c>vision.int8.onnx</c>, <c>text.int8.onnx</c>).</summary>
    public bool Int8 { get; init; }

    /// <summary>Vision graph takes any square size: the 2-D sin-cos table is computed in the graph from the input
    /// size (models whose stored table is not sin-cos are refused).</summary>
    public bool DynamicResolution { get; init; }

    /// <summary>Write the float32 graphs with standard ONNX operators only, for runtimes other than ONNX Runtime. By default
    /// their attention is ONNX Runtime's fused com.microsoft Attention operator (QKV projection, softmax attention and head
    /// merge in one kernel), which its optimiser cannot form from the standard operators itself.</summary>
    public bool StandardOpsOnly { get; init; }

    /// <summary>Also output the last block's patch tokens <c>image_tokens</c> [N, G, W].</summary>
    public bool ImageTokens { get; init; }

    /// <summary>Fixed input size in pixels; null uses the config's. Ignored with <see cref="DynamicResolution"/>.</summary>
    public int? ImageSize { get; init; }

    /// <summary>Validation images [N, 3, S, S] (normalized); null uses 3 seeded random-normal images.</summary>
    public Tensor? ValidationPixels { get; init; }

    /// <summary>Validation token ids [M, C] int64; null tokenizes <see cref="ValidationTexts"/>.</summary>
    public Tensor? ValidationTokenIds { get; init; }

    /// <summary>Captions tokenized for validation when no ids are given.</summary>
    public IReadOnlyList<string> ValidationTexts { get; init; } =
        ["a photo of a cat.", "a diagram of a bicycle", "two dogs playing in the snow", "A RED CAR parked near a café!"];

    /// <summary>Largest accepted float32 error, max |onnx − torch| / max |torch|; the export fails above it.</summary>
    public double Float32Bound { get; init; } = 1e-4;

    /// <summary>Initializer bytes above which weights go to external <c>.onnx.data</c> files (protobuf stops at 2 GiB).</summary>
    public long ExternalDataAboveBytes { get; init; } = 1_800_000_000;

    /// <summary>Time each precision's vision graph (batch 8) and record images/s in the manifest.</summary>
    public bool MeasureSpeed { get; init; }

    /// <summary>ONNX Runtime settings used for validation and timing.</summary>
    public OnnxRuntimeOptions Runtime { get; init; } = new();

    /// <summary>Receives one line per step (the library never writes to the console).</summary>
    public IProgress<string>? Progress { get; init; }
}
