using System.Text.Json;
using OpenVision.Configs;
using OpenVision.Layers;
using OpenVision.Models;
using OpenVision.Onnx.Graph;
using OpenVision.Onnx.Validation;
using OpenVision.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx;

/// <summary>Exports an <see cref="OpenVisionModel"/> to ONNX: one graph per tower, built from our own model definition
/// (the state dict and the config; TorchSharp has no exporter), validated with ONNX Runtime against the model.</summary>
public static class OnnxExporter
{
    /// <summary>The tokenizer vocabulary written beside the graphs.</summary>
    public const string VocabFileName = "vocab.txt";

    /// <summary>Writes <c>vision.onnx</c> and <c>text.onnx</c> (plus the fp16/int8 variants asked for), the config,
    /// vocabulary and <c>manifest.json</c> into <paramref name="outputDir"/>, validates every graph with ONNX Runtime
    /// and returns the manifest.</summary>
    /// <exception cref="OnnxExportException">The float32 graphs differ from the model by more than the bound;
    /// no manifest is written, so the folder is not usable.</exception>
    /// <exception cref="NotSupportedException">The architecture has a feature the graphs do not implement.</exception>
    public static OnnxManifest Export(OpenVisionModel model, string outputDir, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxExportOptions();
        var config = model.Config;
        var vision = config.VisionCfg;
        int imageSize = options.ImageSize ?? vision.ImageSize;
        if (imageSize < vision.PatchSize) throw new ArgumentOutOfRangeException(nameof(options), $"image size {imageSize} is smaller than the patch size {vision.PatchSize}");
        if (options.DynamicResolution) RequireSinCosTable(model);
        Directory.CreateDirectory(outputDir);
        File.Delete(Path.Combine(outputDir, OnnxManifest.FileName));   // a failed export must not leave a loadable folder

        var precisions = new List<OnnxPrecision> { OnnxPrecision.Float32 };
        if (options.Float16) precisions.Add(OnnxPrecision.Float16);
        if (options.Int8) precisions.Add(OnnxPrecision.Int8);
        var files = new List<OnnxModelFiles>();
        using (torch.no_grad())
        {
            var state = model.state_dict();
            foreach (var precision in precisions)
            {
                options.Progress?.Report($"writing {precision} graphs");
                files.Add(WriteGraphs(model, state, outputDir, precision, imageSize, options));
            }
        }
        string configJson = ConfigJson.ToHubJson(config);
        File.WriteAllText(Path.Combine(outputDir, ModelFiles.Config), configJson);
        using (var vocab = OpenVisionTokenizer.OpenDefaultVocabulary())
        using (var copy = File.Create(Path.Combine(outputDir, VocabFileName)))
            vocab.CopyTo(copy);

        options.Progress?.Report("validating with ONNX Runtime");
        var sizes = options.DynamicResolution ? new List<int> { imageSize, (imageSize / vision.PatchSize + 2) * vision.PatchSize } : [imageSize];
        var set = ValidationSet.Create(model, options, sizes);
        var baseline = files.Count > 1 ? ExportValidator.AgreementLabels(outputDir, files[0], set, options.Runtime) : null;
        var validation = files.Select(f => ExportValidator.Validate(outputDir, f, set, options.Runtime, options.Float32Bound,
            f.Precision == OnnxPrecision.Float32 ? null : baseline)).ToList();
        var float32 = validation[0];
        if (!(float32.ImageRelativeError <= options.Float32Bound && float32.TextRelativeError <= options.Float32Bound))
            throw new OnnxExportException($"{config.Name}: the float32 ONNX graphs differ from the TorchSharp model by {float32.ImageRelativeError:E2} (image) " +
                $"and {float32.TextRelativeError:E2} (text), above the bound {options.Float32Bound:E0}; {outputDir} has no manifest");

        var speed = options.MeasureSpeed ? files.Select(f => OnnxSpeedProbe.Measure(outputDir, f, imageSize, options.Runtime)).ToList() : [];
        var manifest = new OnnxManifest
        {
            Model = config.Name,
            ConfigFile = ModelFiles.Config,
            Config = JsonDocument.Parse(configJson).RootElement.Clone(),
            Opset = OnnxModelFile.Opset,
            IrVersion = OnnxModelFile.IrVersion,
            EmbedDim = config.EmbedDim,
            LogitScale = model.LogitScale,
            DynamicResolution = options.DynamicResolution,
            Files = files,
            Vision = VisionSignature(config, imageSize, options),
            Text = [new(TextGraph.TokenIdsName, "input", "int64", ["batch", config.TextCfg.ContextLength.ToString()]),
                    new(TextGraph.FeaturesName, "output", "float32", ["batch", config.EmbedDim.ToString()])],
            Preprocess = new OnnxPreprocess(imageSize, config.Preprocess.Mean, config.Preprocess.Std, config.Preprocess.ResizeMode, config.Preprocess.Interpolation),
            Tokenizer = new OnnxTokenizerInfo(VocabFileName, config.TextCfg.ContextLength, "[bos] wordpieces (at most context-3) [eos] [PAD]... [CLS]",
                OpenVisionTokenizer.PadId, OpenVisionTokenizer.BosId, OpenVisionTokenizer.EosId, OpenVisionTokenizer.ClassId,
                "BERT uncased: clean, lowercase, strip accents, split punctuation and CJK"),
            Validation = validation,
            Speed = speed,
        };
        manifest.Save(outputDir);
        return manifest;
    }

    private static OnnxModelFiles WriteGraphs(OpenVisionModel model, Dictionary<string, Tensor> state, string folder, OnnxPrecision precision,
        int imageSize, OnnxExportOptions options)
    {
        var config = model.Config;
        string suffix = precision switch { OnnxPrecision.Float16 => ".fp16", OnnxPrecision.Int8 => ".int8", _ => "" };
        var metadata = new Dictionary<string, string> { ["model"] = config.Name, ["precision"] = precision.ToString() };
        var written = new List<string>();

        var visionBuilder = new OnnxGraphBuilder("openvision_vision");
        Tensor? table = options.DynamicResolution ? null : model.Visual.PositionTable(imageSize / config.VisionCfg.PatchSize);
        VisionGraph.Write(new TowerWriter(visionBuilder, state, precision, !options.StandardOpsOnly), config.VisionCfg, config.EmbedDim, imageSize, table, options.ImageTokens);
        string visionFile = $"vision{suffix}.onnx";
        written.AddRange(OnnxModelFile.Write(OnnxModelFile.Create(visionBuilder, $"{config.Name} vision tower ({precision})", metadata),
            Path.Combine(folder, visionFile), visionBuilder.InitializerBytes, options.ExternalDataAboveBytes));
        bool usesRuntimeDomain = visionBuilder.UsesRuntimeDomain;
        visionBuilder = null;   // let the weights go before the text tower is built

        var textBuilder = new OnnxGraphBuilder("openvision_text");
        TextGraph.Write(new TowerWriter(textBuilder, state, precision, !options.StandardOpsOnly), config.TextCfg, config.EmbedDim);
        string textFile = $"text{suffix}.onnx";
        written.AddRange(OnnxModelFile.Write(OnnxModelFile.Create(textBuilder, $"{config.Name} text tower ({precision})", metadata),
            Path.Combine(folder, textFile), textBuilder.InitializerBytes, options.ExternalDataAboveBytes));
        var domains = textBuilder.UsesRuntimeDomain || usesRuntimeDomain ? new[] { OnnxGraphBuilder.RuntimeDomain } : [];
        return new OnnxModelFiles(precision, visionFile, textFile, written.Sum(f => new FileInfo(f).Length), written.Count > 2, domains);
    }

    private static IReadOnlyList<OnnxTensorInfo> VisionSignature(ModelConfig config, int imageSize, OnnxExportOptions options)
    {
        string size = options.DynamicResolution ? "size" : imageSize.ToString();
        int grid = imageSize / config.VisionCfg.PatchSize;
        var list = new List<OnnxTensorInfo>
        {
            new(VisionGraph.PixelsName, "input", "float32", ["batch", config.VisionCfg.InChannels.ToString(), size, size]),
            new(VisionGraph.FeaturesName, "output", "float32", ["batch", config.EmbedDim.ToString()]),
        };
        if (options.ImageTokens)
            list.Add(new(VisionGraph.TokensName, "output", "float32", ["batch", options.DynamicResolution ? "patches" : (grid * grid).ToString(), config.VisionCfg.Width.ToString()]));
        return list;
    }

    // The in-graph table is the 2-D sin-cos one; a learned or resampled table would silently change the model.
    private static void RequireSinCosTable(OpenVisionModel model)
    {
        var vision = model.Config.VisionCfg;
        if (vision.Width % 4 != 0) throw new NotSupportedException($"dynamic resolution needs a width divisible by 4 (the sin-cos table), not {vision.Width}");
        if (!SinCosPositionalEmbedding.Matches(model.Visual.PositionTable(vision.GridSize), vision.GridSize, vision.Width))
            throw new NotSupportedException($"{model.Config.Name}: the stored positional table is not the 2-D sin-cos table, so the graph cannot compute it for other sizes; export at a fixed size");
    }
}
