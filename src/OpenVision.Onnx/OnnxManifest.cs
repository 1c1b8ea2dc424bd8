using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenVision.Onnx;

/// <summary>What an export folder holds (<c>manifest.json</c>): the model, its files per precision, the graphs'
/// inputs and outputs, the preprocessing and tokenizer a caller must reproduce, and the validation numbers.</summary>
public sealed record OnnxManifest
{
    /// <summary>The manifest's file name inside an export folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Identifies the folder layout.</summary>
    public string Format { get; init; } = "openvision-onnx";

    /// <summary>Layout version; readers refuse newer ones.</summary>
    public int FormatVersion { get; init; } = 1;

    /// <summary>Model name (config name).</summary>
    public required string Model { get; init; }

    /// <summary>The open_clip hub config file beside the graphs (<c>open_clip_config.json</c>).</summary>
    public required string ConfigFile { get; init; }

    /// <summary>The full open_clip config, as written to <see cref="ConfigFile"/>.</summary>
    public required JsonElement Config { get; init; }

    /// <summary>ONNX opset of the default domain.</summary>
    public required int Opset { get; init; }

    /// <summary>ONNX IR version.</summary>
    public required int IrVersion { get; init; }

    /// <summary>Output width E of both towers.</summary>
    public required int EmbedDim { get; init; }

    /// <summary>exp(logit_scale): the factor applied to cosine similarities for zero-shot logits.</summary>
    public required double LogitScale { get; init; }

    /// <summary>Whether the vision graph takes any square size (sin-cos table computed in the graph from the input size).</summary>
    public required bool DynamicResolution { get; init; }

    /// <summary>Graph files per precision.</summary>
    public required IReadOnlyList<OnnxModelFiles> Files { get; init; }

    /// <summary>Inputs and outputs of the vision graph.</summary>
    public required IReadOnlyList<OnnxTensorInfo> Vision { get; init; }

    /// <summary>Inputs and outputs of the text graph.</summary>
    public required IReadOnlyList<OnnxTensorInfo> Text { get; init; }

    /// <summary>The image preprocessing the vision graph expects.</summary>
    public required OnnxPreprocess Preprocess { get; init; }

    /// <summary>The tokenizer the text graph expects.</summary>
    public required OnnxTokenizerInfo Tokenizer { get; init; }

    /// <summary>Measured agreement with the TorchSharp model, one entry per precision.</summary>
    public required IReadOnlyList<OnnxValidation> Validation { get; init; }

    /// <summary>Measured ONNX Runtime speed of each precision on the exporting machine (empty unless asked for).</summary>
    public IReadOnlyList<OnnxSpeed> Speed { get; init; } = [];

    /// <summary>JSON settings of the manifest: snake_case, indented, enums as strings.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The files of one precision, or an error naming what the folder lacks.</summary>
    public OnnxModelFiles FilesFor(OnnxPrecision precision) => Files.FirstOrDefault(f => f.Precision == precision)
        ?? throw new InvalidOperationException($"this export has no {precision} graphs (it has {string.Join(", ", Files.Select(f => f.Precision))}); export with that precision");

    /// <summary>Reads <c>manifest.json</c> from an export folder.</summary>
    public static OnnxManifest Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: no {FileName}; is this an 'openvision export onnx' folder?", path);
        OnnxManifest manifest;
        try { manifest = JsonSerializer.Deserialize<OnnxManifest>(File.ReadAllText(path), JsonOptions) ?? throw new InvalidDataException($"{path}: empty manifest"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid manifest: {e.Message}", e); }
        if (manifest.Format != "openvision-onnx" || manifest.FormatVersion > 1)
            throw new InvalidDataException($"{path}: format '{manifest.Format}' version {manifest.FormatVersion} is not one this version reads (openvision-onnx 1)");
        return manifest;
    }

    /// <summary>Writes the manifest into <paramref name="folder"/>.</summary>
    public void Save(string folder) => File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, JsonOptions));
}

/// <summary>The two graph files of one precision.</summary>
/// <param name="Precision">Numeric precision.</param>
/// <param name="Vision">Vision graph file name.</param>
/// <param name="Text">Text graph file name.</param>
/// <param name="Bytes">Bytes on disk of all files of this precision (external weight files included).</param>
/// <param name="ExternalData">Whether weights sit in <c>.onnx.data</c> files beside the graphs (models over 2 GiB).</param>
/// <param name="OperatorDomains">Operator domains the graphs use besides the default ONNX one: <c>com.microsoft</c> when
/// they hold ONNX Runtime's fused Attention (float32 unless exported with standard operators only), which other runtimes lack.</param>
public sealed record OnnxModelFiles(OnnxPrecision Precision, string Vision, string Text, long Bytes, bool ExternalData,
    IReadOnlyList<string>? OperatorDomains = null);

/// <summary>One graph input or output.</summary>
/// <param name="Name">Value name in the graph.</param>
/// <param name="Role">"input" or "output".</param>
/// <param name="ElementType">"float32" or "int64".</param>
/// <param name="Shape">Dimensions: numbers, or names for dynamic ones ("batch", "size", "patches").</param>
public sealed record OnnxTensorInfo(string Name, string Role, string ElementType, IReadOnlyList<string> Shape);

/// <summary>The preprocessing of the vision graph's input (open_clip's eval transform).</summary>
/// <param name="ImageSize">Pixels per side at export (any square size when the export has dynamic resolution).</param>
/// <param name="Mean">Per-channel mean subtracted after scaling to [0, 1] (RGB).</param>
/// <param name="Std">Per-channel standard deviation divided by.</param>
/// <param name="ResizeMode">open_clip resize mode ("squash": straight to S×S, no crop).</param>
/// <param name="Interpolation">Resampling filter ("bilinear": Pillow's antialiased filter).</param>
/// <param name="Layout">Tensor layout of the input.</param>
public sealed record OnnxPreprocess(int ImageSize, IReadOnlyList<double> Mean, IReadOnlyList<double> Std, string ResizeMode, string Interpolation,
    string Layout = "NCHW, RGB, float32");

/// <summary>The tokenizer of the text graph's input.</summary>
/// <param name="VocabFile">BERT vocab.txt beside the graphs (id = line index).</param>
/// <param name="ContextLength">Ids per text.</param>
/// <param name="Layout">Row layout.</param>
/// <param name="PadId">Padding id.</param>
/// <param name="BosId">Start id.</param>
/// <param name="EosId">End id.</param>
/// <param name="ClassId">[CLS] id, always at the last position (the pooled one).</param>
/// <param name="Normalization">Text normalisation before WordPiece.</param>
public sealed record OnnxTokenizerInfo(string VocabFile, int ContextLength, string Layout, int PadId, int BosId, int EosId, int ClassId, string Normalization);

/// <summary>How one precision's graphs compare with the TorchSharp float32 model on the validation inputs.</summary>
/// <param name="Precision">The graphs measured.</param>
/// <param name="Images">Validation images (per image size).</param>
/// <param name="Texts">Validation texts.</param>
/// <param name="ImageSizes">Image sizes validated (two for dynamic resolution).</param>
/// <param name="ImageRelativeError">max |onnx − torch| / max |torch| over image features (worst size).</param>
/// <param name="TextRelativeError">The same over text features.</param>
/// <param name="Bound">The bound this precision is held to.</param>
/// <param name="ZeroShotTop1Agreement">Share of images whose top-1 label (over the agreement set) equals float32 ONNX's; null for float32.</param>
/// <param name="ZeroShotSet">The images × labels the agreement was measured on.</param>
public sealed record OnnxValidation(OnnxPrecision Precision, int Images, int Texts, IReadOnlyList<int> ImageSizes,
    double ImageRelativeError, double TextRelativeError, double Bound, double? ZeroShotTop1Agreement, string? ZeroShotSet);

/// <summary>Measured vision throughput of one precision.</summary>
/// <param name="Precision">The graphs timed.</param>
/// <param name="BatchSize">Images per run.</param>
/// <param name="ImagesPerSecond">Median images/s.</param>
/// <param name="IntraOpThreads">ONNX Runtime threads (0 = its default).</param>
public sealed record OnnxSpeed(OnnxPrecision Precision, int BatchSize, double ImagesPerSecond, int IntraOpThreads);
