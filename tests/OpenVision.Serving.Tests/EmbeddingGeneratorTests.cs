using Microsoft.Extensions.AI;
using OpenVision.Onnx;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary>The Microsoft.Extensions.AI generators give the encoder's embeddings, for texts and images, on both backends.</summary>
public class EmbeddingGeneratorTests
{
    [Fact]
    public async Task TextAndImageEmbeddingsShareOneSpace()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(ServerFixture.Model));
        using var generator = new OpenVisionEmbeddingGenerator(encoder);
        IEmbeddingGenerator<string, Embedding<float>> texts = generator;
        IEmbeddingGenerator<DataContent, Embedding<float>> images = generator;

        var textEmbeddings = await texts.GenerateAsync(["a cat", "a rocket"]);
        using var expectedTexts = encoder.EncodeTexts(["a cat", "a rocket"]);
        Assert.Equal(2, textEmbeddings.Count);
        Assert.Equal(expectedTexts[1].data<float>().ToArray(), textEmbeddings[1].Vector.ToArray());
        Assert.Equal(ServerFixture.Model, textEmbeddings[0].ModelId);

        string file = ServerFixture.Image("chelsea.png");
        var imageEmbeddings = await images.GenerateAsync([new DataContent(File.ReadAllBytes(file), "image/png")]);
        using var expectedImage = encoder.EncodeImageFiles([file]);
        Assert.Equal(expectedImage.data<float>().ToArray(), imageEmbeddings[0].Vector.ToArray());

        var metadata = (EmbeddingGeneratorMetadata)texts.GetService(typeof(EmbeddingGeneratorMetadata))!;
        Assert.Equal((ServerFixture.Model, encoder.Config.EmbedDim), (metadata.DefaultModelId, metadata.DefaultModelDimensions));
        Assert.Same(encoder, texts.GetService(typeof(OpenVisionEncoder)));
        await Assert.ThrowsAsync<ArgumentException>(() => images.GenerateAsync([new DataContent(new byte[] { 1, 2 }, "text/plain")]));
    }

    [Fact]
    public async Task OnnxBackendServesTheSameEmbeddings()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"openvision-serving-test-{Guid.NewGuid():N}");
        try
        {
            using (var model = ModelFactory.Load(ReferenceModels.Folder(ServerFixture.Model)).Model) OnnxExporter.Export(model, folder);
            using var torchEncoder = OpenVisionEncoder.Load(ReferenceModels.Folder(ServerFixture.Model));
            using var generator = new OpenVisionEmbeddingGenerator(OnnxBackend.LoadEncoder(folder), ownsEncoder: true);
            var onnx = await ((IEmbeddingGenerator<string, Embedding<float>>)generator).GenerateAsync(["a photo of a horse"]);
            using var expected = torchEncoder.EncodeTexts(["a photo of a horse"]);
            using var actual = TorchSharp.torch.tensor(onnx[0].Vector.ToArray(), expected.shape);
            Assert.True(Tolerance.RelativeError(actual, expected) <= Tolerance.Float32);
        }
        finally { Directory.Delete(folder, true); }
    }
}
