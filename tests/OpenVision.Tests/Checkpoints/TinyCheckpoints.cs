using OpenVision.Checkpoints;
using OpenVision.Models;
using OpenVision.Tests.Fixtures;
using static TorchSharp.torch;

namespace OpenVision.Tests.Checkpoints;

/// <summary>The tiny open_clip-layout model of Fixtures/checkpoints/openclip (written by make_training_checkpoints.py
/// with PyTorch): its checkpoint files, a folder to load copies from, and its features on fixed inputs.</summary>
internal static class TinyCheckpoints
{
    /// <summary>A file of the fixture folder, e.g. "plain.pt".</summary>
    public static string Fixture(string name) => TestFiles.Fixture("checkpoints", "openclip", name);

    /// <summary>A temp folder holding the tiny config, so that any checkpoint copied into it loads as that model.</summary>
    public static TempFolder NewModelFolder()
    {
        var folder = TestFiles.NewTempFolder();
        File.Copy(Fixture(ModelFiles.Config), folder.Path(ModelFiles.Config));
        return folder;
    }

    /// <summary>Image and text features (float32, concatenated) on fixed inputs, seeded so every call agrees.</summary>
    public static float[] Features(OpenVisionModel model)
    {
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(seed: 7);
        var pixels = randn([2, 3, model.Config.VisionCfg.ImageSize, model.Config.VisionCfg.ImageSize], generator: generator);
        var ids = randint(1, model.Config.TextCfg.VocabSize, [2, model.Config.TextCfg.ContextLength], generator: generator);
        using var _ = no_grad();
        var features = cat([model.EncodeImage(pixels).flatten(), model.EncodeText(ids).flatten()]);
        return features.to(ScalarType.Float32).data<float>().ToArray();
    }

    /// <summary>Loads <paramref name="path"/> with the model loader and returns its features.</summary>
    public static float[] LoadFeatures(string path, ModelLoadOptions? options = null)
    {
        var (model, _) = ModelFactory.Load(path, options);
        using (model) return Features(model);
    }

    /// <summary>The plain state dict as the reader returns it.</summary>
    public static Dictionary<string, TensorData> PlainTensors() => StateDictReader.Read(Fixture("plain.pt"));
}
