using OpenVision.Checkpoints;
using OpenVision.Configs;
using OpenVision.IO;
using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision;

/// <summary>Builds models from configs and loads them from built-in names, hub-style folders, checkpoint files or
/// <c>hf-hub:ORG/NAME[@REVISION]</c> references.</summary>
public static class ModelFactory
{
    /// <summary>A randomly initialised model for a config.</summary>
    public static OpenVisionModel Create(ModelConfig config, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        var model = new OpenVisionModel(config);
        Place(model, options);
        return model;
    }

    /// <summary>Resolves a reference to a config and (optionally) a weights file without loading tensors.</summary>
    /// <param name="reference">Built-in name, folder, file or hf-hub: id.</param>
    /// <param name="hub">Hub client for hf-hub: references; null uses one configured from the environment.</param>
    /// <param name="configOnly">For hf-hub: references, fetch only the config (no weights download).</param>
    public static (ModelConfig Config, ModelSource Source) Resolve(string reference, Hub.HubClient? hub = null, bool configOnly = false)
    {
        if (string.IsNullOrWhiteSpace(reference)) throw new ArgumentException("the model reference is empty", nameof(reference));
        if (reference.StartsWith(Hub.HubModelId.Prefix, StringComparison.Ordinal))
        {
            var id = Hub.HubModelId.Parse(reference);
            if (hub is not null) return ResolveHub(id, hub, configOnly);
            using var client = new Hub.HubClient();
            return ResolveHub(id, client, configOnly);
        }
        if (Directory.Exists(reference)) return ResolveFolder(reference);
        if (File.Exists(reference)) return ResolveFile(reference);
        if (ModelRegistry.TryGet(reference, out var builtin)) return (builtin, new ModelSource(reference, null, null));
        throw new FileNotFoundException(
            $"'{reference}' is not a built-in model, a folder, a file or an hf-hub: reference; closest built-in names: {string.Join(", ", ModelRegistry.ClosestNames(reference, 3))}");
    }

    /// <summary>Loads a model. Built-in names give a config only, so they need <see cref="ModelLoadOptions.RandomInit"/>.</summary>
    public static (OpenVisionModel Model, ModelSource Source) Load(string reference, ModelLoadOptions? options = null, Hub.HubClient? hub = null)
    {
        options ??= new ModelLoadOptions();
        var (config, source) = Resolve(reference, hub);
        if (source.WeightsPath is null && !options.RandomInit)
            throw new InvalidOperationException(
                $"'{reference}' names a config without weights; give a folder, a checkpoint file or hf-hub:{ModelRegistry.HubOrganization}/{config.Name}, or allow random initialisation (--random-init on the command line)");
        var model = new OpenVisionModel(config);
        try
        {
            if (source.WeightsPath is not null)
            {
                // open_clip training checkpoints and DDP/torch.compile wrappers prefix every key; the adapter removes that.
                var tensors = CheckpointAdapter.StripWrapperPrefixes(StateDictReader.Read(source.WeightsPath));
                if (config.IsVisionOnly) tensors = VisionOnlyLayout.ToModelKeys(tensors);
                if (!options.AllowNonFiniteWeights) NonFiniteWeights.ThrowIfAny(tensors, source.WeightsPath);
                StateDictLoader.Load(model, tensors, source.WeightsPath, options.Strict);
            }
            Place(model, options);
            return (model, source);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Writes a model as an open_clip hub folder: <c>open_clip_config.json</c> plus float32
    /// <c>open_clip_model.safetensors</c> (and <c>open_clip_pytorch_model.bin</c> when asked), loadable by the Python reference.
    /// A vision-only model is written in the released OpenVision 2 layout (tower keys without <c>visual.</c>).</summary>
    public static void Save(OpenVisionModel model, string folder, bool alsoPytorchBin = false)
    {
        Directory.CreateDirectory(folder);
        var tensors = StateDictLoader.Export(model, ScalarType.Float32);
        if (model.Config.IsVisionOnly) tensors = VisionOnlyLayout.ToReleaseKeys(tensors);
        SafetensorsFile.Write(Path.Combine(folder, ModelFiles.Safetensors), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        if (alsoPytorchBin) TorchCheckpointWriter.Write(Path.Combine(folder, ModelFiles.PyTorchBin), tensors);
        WriteAtomically(Path.Combine(folder, ModelFiles.Config), ConfigJson.ToHubJson(model.Config));
    }

    private static (ModelConfig, ModelSource) ResolveFolder(string folder)
    {
        string configPath = Path.Combine(folder, ModelFiles.Config);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{folder}: no {ModelFiles.Config} in the folder");
        string? weights = ModelFiles.Weights.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
        if (weights is null) throw new FileNotFoundException($"{folder}: no {string.Join(" or ", ModelFiles.Weights)} in the folder");
        return (ConfigJson.Load(configPath, Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'))), new ModelSource(folder, configPath, weights));
    }

    private static (ModelConfig, ModelSource) ResolveFile(string file)
    {
        if (file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return (ConfigJson.Load(file), new ModelSource(file, file, null));
        string? folder = Path.GetDirectoryName(Path.GetFullPath(file));
        string configPath = Path.Combine(folder ?? ".", ModelFiles.Config);
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{file}: no {ModelFiles.Config} next to the checkpoint, so its architecture is unknown");
        return (ConfigJson.Load(configPath, Path.GetFileName(folder) ?? file), new ModelSource(file, configPath, file));
    }

    private static (ModelConfig, ModelSource) ResolveHub(Hub.HubModelId id, Hub.HubClient hub, bool configOnly)
    {
        string configPath = Download(hub, id, ModelFiles.Config);
        if (configOnly) return (ConfigJson.Load(configPath, id.RepoId.Split('/')[^1]), new ModelSource(id.ToString(), configPath, null));
        // Prefer whatever weights are already cached (offline use), then safetensors, then the pickle .bin.
        string? weights = ModelFiles.Weights.Select(n => hub.TryGetCached(id, n)).FirstOrDefault(p => p is not null);
        Hub.HubException? last = null;
        foreach (var name in ModelFiles.Weights)
        {
            if (weights is not null) break;
            try { weights = Download(hub, id, name); }
            catch (Hub.HubException e) when (e.StatusCode == 404 || hub.Options.Offline) { last = e; }
        }
        if (weights is null) throw new FileNotFoundException($"{id}: no {string.Join(" or ", ModelFiles.Weights)} available ({last?.Problem})", last);
        return (ConfigJson.Load(configPath, id.RepoId.Split('/')[^1]), new ModelSource(id.ToString(), configPath, weights));
    }

    private static string Download(Hub.HubClient hub, Hub.HubModelId id, string fileName) =>
        hub.DownloadAsync(id, fileName).GetAwaiter().GetResult();

    private static void Place(OpenVisionModel model, ModelLoadOptions options)
    {
        model.ToInferenceDType(options.DType);   // after loading: checkpoints are read into float32 parameters
        if (options.Device is { } device && device.type != DeviceType.CPU) model.to(device);
        model.eval();
    }

    private static void WriteAtomically(string path, string text)
    {
        AtomicFile.WriteAllText(path, text);
    }
}
