using OpenVision.Tests.Parity;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Tests.Export;

/// <summary>Dynamic resolution (sin-cos table computed in the graph), external weight files, and refusals.</summary>
public class DynamicExportTests
{
    [Fact]
    public void DynamicResolutionGraphMatchesTorchAtSeveralSizes()
    {
        const string name = "ovtest-mini-p16-64";
        string folder = Exports.TempFolder("dynamic");
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder(name));
        using (model)
        {
            var manifest = OnnxExporter.Export(model, folder, new OnnxExportOptions { DynamicResolution = true, ImageTokens = true });
            Assert.True(manifest.DynamicResolution);
            Assert.Equal([64, 96], manifest.Validation[0].ImageSizes);
            Assert.Equal(["batch", "3", "size", "size"], manifest.Vision[0].Shape);

            using var encoder = OnnxBackend.LoadEncoder(folder);
            foreach (int size in new[] { 32, 64, 112 })
            {
                using var pixels = randn(2, 3, size, size, generator: new Generator((ulong)size));
                using var expected = model.EncodeImage(pixels);
                using var actual = encoder.EncodePixels(pixels, normalize: false);
                Assert.True(Tolerance.RelativeError(actual, expected) <= Tolerance.Float32, $"{size} px: {Tolerance.RelativeError(actual, expected):E3}");
            }
            // At the stored grid the in-graph table replaces the checkpoint's: the reference outputs still hold.
            var reference = ReferenceModels.Expected(name);
            using var refPixels = reference["pixels"].ToTorch();
            using var refImage = reference["image_features"].ToTorch();
            using var image = encoder.EncodePixels(refPixels, normalize: false);
            Assert.True(Tolerance.RelativeError(image, refImage) <= Tolerance.Float32);
        }
    }

    [Fact]
    public void ExternalDataFilesLoadAndGiveTheSameOutputs()
    {
        const string name = "ovtest-mini-p8-40";
        string folder = Exports.TempFolder("external");
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder(name));
        using (model)
        {
            // A threshold of 0 bytes forces what a 2 GiB model gets: weights in page-aligned .onnx.data files.
            var manifest = OnnxExporter.Export(model, folder, new OnnxExportOptions { ExternalDataAboveBytes = 0 });
            Assert.True(manifest.Files[0].ExternalData);
            Assert.True(File.Exists(Path.Combine(folder, "vision.onnx.data")));
            Assert.True(File.Exists(Path.Combine(folder, "text.onnx.data")));
            Assert.True(new FileInfo(Path.Combine(folder, "vision.onnx")).Length < 100_000);
            Assert.InRange(manifest.Validation[0].ImageRelativeError, 0, 1e-4);
        }
        var expected = ReferenceModels.Expected(name);
        using var encoder = OnnxBackend.LoadEncoder(folder);
        using var pixels = expected["pixels"].ToTorch();
        using var image = encoder.EncodePixels(pixels, normalize: false);
        using var refImage = expected["image_features"].ToTorch();
        Assert.True(Tolerance.RelativeError(image, refImage) <= Tolerance.Float32);
    }

    [Fact]
    public void DynamicResolutionRefusesALearnedPositionTable()
    {
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder("ovtest-mini-p16-64"));
        using (model)
        {
            using (no_grad()) model.state_dict()["visual.positional_embedding"].add_(0.01);
            var error = Assert.Throws<NotSupportedException>(() =>
                OnnxExporter.Export(model, Exports.TempFolder("learned"), new OnnxExportOptions { DynamicResolution = true }));
            Assert.Contains("not the 2-D sin-cos table", error.Message);
        }
    }
}
