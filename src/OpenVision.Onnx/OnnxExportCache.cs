using System.Security.Cryptography;
using System.Text;
using OpenVision.IO;
using OpenVision.Models;

namespace OpenVision.Onnx;

/// <summary>Opens any model reference on the ONNX Runtime backend: an export folder as it is, anything else exported
/// once into a cache folder keyed by the weights file (its path, size and time) and the export settings.</summary>
public static class OnnxExportCache
{
    /// <summary>The cache root: <c>OPENVISION_ONNX_CACHE</c>, else <c>$XDG_CACHE_HOME/openvision/onnx</c>, else <c>~/.cache/openvision/onnx</c>.</summary>
    public static string Root
    {
        get
        {
            string? explicitRoot = Environment.GetEnvironmentVariable("OPENVISION_ONNX_CACHE");
            if (!string.IsNullOrEmpty(explicitRoot)) return explicitRoot;
            return Path.Combine(CacheFolder.Default, "onnx");
        }
    }

    /// <summary>An encoder for <paramref name="reference"/>: a folder with <c>manifest.json</c> is opened directly; other
    /// references are loaded with TorchSharp and exported (randomly initialised models into a folder deleted on dispose,
    /// since their weights differ on every load).</summary>
    /// <param name="reference">Export folder, or anything <see cref="ModelFactory.Load"/> accepts.</param>
    /// <param name="loadOptions">How to load a model that must be exported.</param>
    /// <param name="imageSize">Export at this size instead of the config's.</param>
    /// <param name="runtime">Session settings and the precision to run.</param>
    /// <param name="progress">Receives a line per export step.</param>
    public static OpenVisionEncoder Open(string reference, ModelLoadOptions? loadOptions = null, int? imageSize = null,
        OnnxRuntimeOptions? runtime = null, IProgress<string>? progress = null)
    {
        runtime ??= new OnnxRuntimeOptions();
        if (Directory.Exists(reference) && File.Exists(Path.Combine(reference, OnnxManifest.FileName)))
        {
            var encoder = OnnxBackend.LoadEncoder(reference, runtime);
            if (imageSize is { } size && size != encoder.ImageSize)
            {
                encoder.Dispose();
                throw new ArgumentException($"{reference} was exported at {encoder.ImageSize} px; export again for {size} px");
            }
            return encoder;
        }
        var options = ExportOptions(imageSize, runtime, progress);
        var (model, source) = ModelFactory.Load(reference, loadOptions);
        using (model) return OnnxBackend.ToEncoder(Export(model, source, options, runtime, progress));
    }

    /// <summary>An ONNX Runtime backend of a model already in memory (the caller keeps it): exported once into the cache
    /// when it has a weights file, else into a temporary folder the backend deletes when disposed.</summary>
    /// <param name="model">The model to export.</param>
    /// <param name="source">Where it came from (its weights file keys the cache).</param>
    /// <param name="imageSize">Export at this size instead of the config's.</param>
    /// <param name="runtime">Session settings and the precision to run.</param>
    /// <param name="progress">Receives a line per export step.</param>
    public static OnnxBackend OpenBackend(OpenVisionModel model, ModelSource source, int? imageSize = null, OnnxRuntimeOptions? runtime = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        runtime ??= new OnnxRuntimeOptions();
        return Export(model, source, ExportOptions(imageSize, runtime, progress), runtime, progress);
    }

    private static OnnxExportOptions ExportOptions(int? imageSize, OnnxRuntimeOptions runtime, IProgress<string>? progress) => new()
    {
        ImageSize = imageSize,
        ImageTokens = true,                   // free to add (the graph computes them anyway); `embed --tokens` needs them
        Float16 = runtime.Precision == OnnxPrecision.Float16,
        Int8 = runtime.Precision == OnnxPrecision.Int8,
        Runtime = runtime,
        Progress = progress,
    };

    private static OnnxBackend Export(OpenVisionModel model, ModelSource source, OnnxExportOptions options, OnnxRuntimeOptions runtime, IProgress<string>? progress)
    {
        if (source.WeightsPath is null)
        {
            string temporary = ProcessTempFolder.Create("openvision-onnx");
            progress?.Report($"exporting randomly initialised {model.Config.Name} to {temporary}");
            OnnxExporter.Export(model, temporary, options);
            return OnnxBackend.LoadOwned(temporary, runtime);
        }
        string folder = Path.Combine(Root, $"{model.Config.Name}-{Key(source.WeightsPath, options)}");
        if (!File.Exists(Path.Combine(folder, OnnxManifest.FileName)))
        {
            // Export beside the final folder and rename: a concurrent or interrupted export never leaves a half folder in
            // place, and the next export deletes the staging folder of one whose process was killed.
            string staging = ProcessTempFolder.Create(".staging", Root);
            progress?.Report($"exporting {model.Config.Name} to {folder}");
            OnnxExporter.Export(model, staging, options);
            try { Directory.Move(staging, folder); }
            catch (IOException) when (File.Exists(Path.Combine(folder, OnnxManifest.FileName))) { Directory.Delete(staging, true); }
        }
        return OnnxBackend.Load(folder, runtime);
    }

    private static string Key(string weightsPath, OnnxExportOptions options)
    {
        var file = new FileInfo(weightsPath);
        string identity = $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}|{options.ImageSize}|{options.Float16}|{options.Int8}|{options.ImageTokens}|v2";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16].ToLowerInvariant();
    }
}
