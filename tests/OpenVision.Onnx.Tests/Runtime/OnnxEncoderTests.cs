using OpenVision.Backends;
using OpenVision.Tests.Parity;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Onnx.Tests.Runtime;

/// <summary>The ONNX Runtime backend gives the TorchSharp backend's results: any batch size, texts, images, classifiers.</summary>
public class OnnxEncoderTests
{
    private const string Name = "ovtest-mini-so-p14-46";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void AnyBatchSizeMatchesTorch(int batch)
    {
        var (folder, _) = Exports.Reference(Name);
        using var onnx = OnnxBackend.LoadEncoder(folder);
        using var torchEncoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Name));
        using var pixels = randn(batch, 3, 46, 46, generator: new Generator((ulong)batch));
        using var ids = torchEncoder.Tokenize(Enumerable.Range(0, batch).Select(i => $"caption number {i} of a test").ToList());

        using var image = onnx.EncodePixels(pixels);
        using var expectedImage = torchEncoder.EncodePixels(pixels);
        using var text = onnx.EncodeTokenIds(ids);
        using var expectedText = torchEncoder.EncodeTokenIds(ids);
        Assert.Equal([batch, 72], image.shape);
        Assert.Equal([batch, 72], text.shape);
        Assert.True(Tolerance.RelativeError(image, expectedImage) <= Tolerance.Float32);
        Assert.True(Tolerance.RelativeError(text, expectedText) <= Tolerance.Float32);
    }

    [Fact]
    public void TextsImagesAndClassifierMatchTorch()
    {
        var (folder, _) = Exports.Reference(Name);
        using var onnx = OnnxBackend.LoadEncoder(folder, new OnnxRuntimeOptions { IntraOpThreads = 1 });
        using var torchEncoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Name));
        string[] texts = ["a cat", "a dog on a sofa", "two bicycles", "an airplane"];
        var files = new[] { "chelsea.png", "camera.png", "chelsea.webp" }.Select(f => ReferenceData("preprocess", "images", f)).ToList();

        using var text = onnx.EncodeTexts(texts, batchSize: 3);                       // two ONNX calls
        using var expectedText = torchEncoder.EncodeTexts(texts);
        Assert.True(Tolerance.RelativeError(text, expectedText) <= Tolerance.Float32);
        using var images = onnx.EncodeImageFiles(files, batchSize: 2);
        using var expectedImages = torchEncoder.EncodeImageFiles(files);
        Assert.True(Tolerance.RelativeError(images, expectedImages) <= Tolerance.Float32);

        using var classifier = onnx.CreateClassifier(texts, ["a photo of {}.", "{}"]);
        using var expectedClassifier = torchEncoder.CreateClassifier(texts, ["a photo of {}.", "{}"]);
        Assert.Equal(torchEncoder.LogitScale, classifier.LogitScale, 4);
        using var probabilities = classifier.Probabilities(images);
        using var expectedProbabilities = expectedClassifier.Probabilities(expectedImages);
        Assert.True(Tolerance.RelativeError(probabilities, expectedProbabilities) <= 1e-3);
        Assert.Equal(expectedClassifier.Top(expectedImages, 1).Select(r => r[0].Index), classifier.Top(images, 1).Select(r => r[0].Index));
    }

    [Fact]
    public void ArrayApiNeedsNoTorchTensors()
    {
        var (folder, _) = Exports.Reference(Name);
        var backend = OnnxBackend.Load(folder);
        using var onnx = new OpenVisionEncoder(backend, backend.Tokenizer);
        var image = ImageDecoder.Decode(ReferenceData("preprocess", "images", "chelsea.png"));
        var pixels = onnx.Transform.ToChw(image);
        var features = backend.EncodePixels(pixels, 1);
        using var expected = onnx.EncodeImages([image]);
        Assert.Equal(expected.data<float>().ToArray(), features);
    }

    [Fact]
    public void WrongInputsGiveClearErrors()
    {
        var (folder, _) = Exports.Reference(Name);
        var backend = OnnxBackend.Load(folder);
        using var onnx = new OpenVisionEncoder(backend, backend.Tokenizer);
        using var small = zeros(2, 3, 32, 32);
        Assert.Contains("must be [any, 3, 46, 46], got [2, 3, 32, 32]", Assert.Throws<ArgumentException>(() => onnx.EncodePixels(small)).Message);
        using var oblong = zeros(1, 3, 46, 40);
        Assert.Contains("[N, 3, S, S]", Assert.Throws<ArgumentException>(() => onnx.EncodePixels(oblong)).Message);
        using var shortIds = zeros(1, 77, dtype: ScalarType.Int64);
        Assert.Contains("token ids must be [B, 80], got [1, 77]", Assert.Throws<ArgumentException>(() => onnx.EncodeTokenIds(shortIds)).Message);
        using var intIds = zeros(1, 80, dtype: ScalarType.Int32);
        Assert.Contains("must be int64", Assert.Throws<ArgumentException>(() => onnx.EncodeTokenIds(intIds)).Message);
        Assert.Throws<ArgumentException>(() => onnx.EncodeTexts(["fine", " "]));
        Assert.Throws<ArgumentException>(() => backend.EncodePixels(new float[10], 1));
    }

    [Fact]
    public void DetailedOutputsAreWhatTheGraphsHave()
    {
        // Exported with image tokens: patch tokens match TorchSharp's, block outputs are refused in one line.
        var (folder, _) = Exports.Reference(Name);
        using var onnx = OnnxBackend.LoadEncoder(folder);
        using var torchEncoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Name));
        Assert.Equal(DetailedImageOutputs.PatchTokens, onnx.Backend.DetailedOutputs);
        Assert.Equal(DetailedImageOutputs.PatchTokens | DetailedImageOutputs.BlockOutputs, torchEncoder.Backend.DetailedOutputs);
        using var pixels = randn(2, 3, 46, 46, generator: new Generator(7));
        using var detail = onnx.EncodeImageDetailed(pixels);
        using var expected = torchEncoder.EncodeImageDetailed(pixels);
        Assert.True(Tolerance.RelativeError(detail.Tokens, expected.Tokens) <= Tolerance.Float32);
        Assert.True(Tolerance.RelativeError(detail.Features, expected.Features) <= Tolerance.Float32);
        var error = Assert.Throws<NotSupportedException>(() => onnx.EncodeImageDetailed(pixels, [-2]));
        Assert.Contains("not block outputs", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Throws<NotSupportedException>(() => onnx.ResolveLayer(-2));

        // Exported without tokens: the capability says so and asking for them is refused.
        string plain = Exports.TempFolder("no-tokens");
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder(Name));
        using (model) OnnxExporter.Export(model, plain);
        using var withoutTokens = OnnxBackend.LoadEncoder(plain);
        Assert.Equal(DetailedImageOutputs.None, withoutTokens.Backend.DetailedOutputs);
        Assert.Contains("no image_tokens output", Assert.Throws<NotSupportedException>(() => withoutTokens.EncodeImageDetailed(pixels)).Message);
    }

    [Fact]
    public void MissingPrecisionOrFolderIsExplained()
    {
        string folder = Exports.TempFolder("fp32-only");
        var (model, _) = ModelFactory.Load(ReferenceModels.Folder(Name));
        using (model) OnnxExporter.Export(model, folder);
        var error = Assert.Throws<InvalidOperationException>(() => OnnxBackend.LoadEncoder(folder, new OnnxRuntimeOptions { Precision = OnnxPrecision.Int8 }));
        Assert.Contains("no Int8 graphs", error.Message);
        Assert.Contains("is this an 'openvision export onnx' folder", Assert.Throws<FileNotFoundException>(() => OnnxBackend.LoadEncoder(Exports.TempFolder("empty"))).Message);
    }

    private static string ReferenceData(params string[] parts) => OpenVision.Tests.ReferenceData.Path(parts);
}
