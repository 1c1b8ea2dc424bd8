using System.Text.Json;
using OpenVision.Text;
using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests.Export;

/// <summary>What an export folder holds and what its manifest says.</summary>
public class ManifestTests
{
    private const string Name = "ovtest-mini-p16-64";

    [Fact]
    public void ManifestDescribesGraphsPreprocessingTokenizerAndValidation()
    {
        var (folder, written) = Exports.Reference(Name);
        var manifest = OnnxManifest.Load(folder);                       // round trip through manifest.json
        var config = ModelFactory.Resolve(ReferenceModels.Folder(Name)).Config;

        Assert.Equal(written.Model, manifest.Model);
        Assert.Equal(17, manifest.Opset);
        Assert.Equal(config.EmbedDim, manifest.EmbedDim);
        Assert.Equal(100.0, manifest.LogitScale, 3);                   // reference checkpoints: logit_scale = ln(100)
        Assert.Equal([OnnxPrecision.Float32, OnnxPrecision.Float16, OnnxPrecision.Int8], manifest.Files.Select(f => f.Precision));
        foreach (var files in manifest.Files)
        {
            Assert.True(File.Exists(Path.Combine(folder, files.Vision)));
            Assert.True(File.Exists(Path.Combine(folder, files.Text)));
            Assert.False(files.ExternalData);
        }
        Assert.Equal(["batch", "3", "64", "64"], manifest.Vision.Single(t => t.Name == "pixels").Shape);
        Assert.Equal(["batch", "16", config.VisionCfg.Width.ToString()], manifest.Vision.Single(t => t.Name == "image_tokens").Shape);
        Assert.Equal(["batch", "80"], manifest.Text.Single(t => t.Role == "input").Shape);
        Assert.Equal("int64", manifest.Text.Single(t => t.Role == "input").ElementType);

        Assert.Equal(64, manifest.Preprocess.ImageSize);
        Assert.Equal(config.Preprocess.Mean, manifest.Preprocess.Mean);
        Assert.Equal(config.Preprocess.Std, manifest.Preprocess.Std);
        Assert.Equal("squash", manifest.Preprocess.ResizeMode);
        Assert.Equal("bilinear", manifest.Preprocess.Interpolation);
        Assert.Equal((80, 0, 1, 2, 101), (manifest.Tokenizer.ContextLength, manifest.Tokenizer.PadId, manifest.Tokenizer.BosId, manifest.Tokenizer.EosId, manifest.Tokenizer.ClassId));

        // The vocabulary beside the graphs tokenizes exactly like the built-in one, and the config round-trips.
        var copy = OpenVisionTokenizer.FromVocabFile(Path.Combine(folder, manifest.Tokenizer.VocabFile));
        string text = "A photo of two Café-dogs, 🐶 übermäßig!";
        Assert.Equal(OpenVisionTokenizer.CreateDefault().Encode(text), copy.Encode(text));
        Assert.Equal(config.VisionCfg, Configs.ConfigJson.Load(Path.Combine(folder, manifest.ConfigFile)).VisionCfg);
        Assert.Equal(JsonValueKind.Object, manifest.Config.GetProperty("model_cfg").ValueKind);

        var float32 = manifest.Validation[0];
        Assert.Equal(OnnxPrecision.Float32, float32.Precision);
        Assert.InRange(float32.ImageRelativeError, 0, 1e-4);
        Assert.InRange(float32.TextRelativeError, 0, 1e-4);
        Assert.Null(float32.ZeroShotTop1Agreement);
        Assert.All(manifest.Validation.Skip(1), v => Assert.NotNull(v.ZeroShotTop1Agreement));
    }

    [Fact]
    public void FailedValidationThrowsAndLeavesNoManifest()
    {
        string folder = Exports.TempFolder("fail");
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder(Name));
        using (model)
        {
            // No float32 graph is bit-identical to TorchSharp, so a zero bound must fail.
            var error = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(model, folder, new OnnxExportOptions { Float32Bound = 0 }));
            Assert.Contains("above the bound", error.Message);
        }
        Assert.False(File.Exists(Path.Combine(folder, OnnxManifest.FileName)));
        Assert.Throws<FileNotFoundException>(() => OnnxBackend.LoadEncoder(folder));
    }
}
