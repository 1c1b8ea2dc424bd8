using OpenVision.Lab.Benchmarks.Onnx;
using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests.Export;

/// <summary>Which operators the graphs hold (ONNX Runtime's fused Attention by default, standard ones on request), that
/// both forms give the reference outputs, and the profiler that shows what ONNX Runtime makes of them.</summary>
public class OperatorTests
{
    private const string Name = "ovtest-mini-p16-64";

    [Fact]
    public void Float32GraphsUseFusedAttentionAndTheOtherPrecisionsDoNot()
    {
        var (folder, manifest) = Exports.Reference(Name);
        var config = Configs.ConfigJson.Load(Path.Combine(folder, manifest.ConfigFile), manifest.Model);
        foreach (var files in manifest.Files)
        {
            var vision = OnnxProfiler.OpTypes(Path.Combine(folder, files.Vision));
            var text = OnnxProfiler.OpTypes(Path.Combine(folder, files.Text));
            if (files.Precision == OnnxPrecision.Float32)
            {
                Assert.Equal(["com.microsoft"], files.OperatorDomains!);
                Assert.Equal(config.VisionCfg.Layers, vision["com.microsoft:Attention"]);
                Assert.Equal(config.TextCfg.Layers, text["com.microsoft:Attention"]);
                Assert.False(vision.ContainsKey("Softmax"), "the unfused attention is still in the vision graph");
            }
            else
            {
                Assert.Empty(files.OperatorDomains!);
                Assert.DoesNotContain(vision.Keys.Concat(text.Keys), op => op.Contains(':'));
            }
        }
    }

    [Fact]
    public void StandardOperatorGraphsGiveTheSameReferenceOutputs()
    {
        string folder = Exports.TempFolder("standard-ops");
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder(Name));
        using (model)
        {
            var manifest = OnnxExporter.Export(model, folder, new OnnxExportOptions { StandardOpsOnly = true });
            Assert.Empty(manifest.Files[0].OperatorDomains!);
            var vision = OnnxProfiler.OpTypes(Path.Combine(folder, manifest.Files[0].Vision));
            Assert.DoesNotContain(vision.Keys, op => op.Contains(':'));
            Assert.Equal(model.Config.VisionCfg.Layers, vision["Softmax"]);
        }
        var expected = ReferenceModels.Expected(Name);
        using var pixels = expected["pixels"].ToTorch();
        using var ids = expected["text_ids"].ToTorch();
        using var expectedImage = expected["image_features"].ToTorch();
        using var expectedText = expected["text_features"].ToTorch();
        using var standard = OnnxBackend.LoadEncoder(folder);
        using var fused = OnnxBackend.LoadEncoder(Exports.Reference(Name).Folder, new OnnxRuntimeOptions { AllowSpinning = false });
        foreach (var encoder in new[] { standard, fused })
        {
            using var image = encoder.EncodePixels(pixels, normalize: false);
            using var text = encoder.EncodeTokenIds(ids, normalize: false);
            Assert.True(Tolerance.RelativeError(image, expectedImage) <= Tolerance.Float32, $"{encoder.Source.Reference} image: {Tolerance.RelativeError(image, expectedImage):E3}");
            Assert.True(Tolerance.RelativeError(text, expectedText) <= Tolerance.Float32, $"{encoder.Source.Reference} text: {Tolerance.RelativeError(text, expectedText):E3}");
        }
    }

    [Fact]
    public void ProfilerReportsOptimisedOperatorsAndKernelTimes()
    {
        var (folder, manifest) = Exports.Reference(Name);
        string work = Exports.TempFolder("profile");
        int size = manifest.Preprocess.ImageSize;
        var profile = OnnxProfiler.Profile(Path.Combine(folder, manifest.Files[0].Vision), [2, 3, size, size], new OnnxRuntimeOptions(), runs: 3, work);

        Assert.Equal(3, profile.Runs);
        Assert.True(profile.ExportedOps.ContainsKey("Erf"), "the exported graph writes exact GELU with Erf");
        Assert.True(profile.OptimizedOps.ContainsKey("com.microsoft:BiasGelu"), "ONNX Runtime fuses bias + GELU");
        Assert.False(profile.OptimizedOps.ContainsKey("Erf"));
        Assert.Contains(profile.Kernels, k => k.OpType == "Attention" && k.Calls == 3 * profile.OptimizedOps["com.microsoft:Attention"]);
        Assert.InRange(profile.Kernels.Sum(k => k.Share), 0.999, 1.001);
        Assert.All(profile.Kernels, k => Assert.True(k.Milliseconds >= 0));
        Assert.True(profile.CpuSecondsPerRun > 0);
        Assert.Single(Directory.GetFiles(work, "*.optimized.onnx"));
        Assert.Single(Directory.GetFiles(work, "*profile*.json"));
    }

    [Fact]
    public void ProfilerNamesAMissingModel()
    {
        var error = Assert.Throws<FileNotFoundException>(() => OnnxProfiler.OpTypes("/nonexistent/vision.onnx"));
        Assert.Contains("/nonexistent/vision.onnx", error.Message);
        string garbage = Path.Combine(Exports.TempFolder("garbage"), "vision.onnx");
        File.WriteAllBytes(garbage, [0xff, 0xff, 0xff, 0xff, 0x0f]);
        var invalid = Assert.Throws<InvalidDataException>(() => OnnxProfiler.OpTypes(garbage));
        Assert.Contains(garbage, invalid.Message);
    }
}
