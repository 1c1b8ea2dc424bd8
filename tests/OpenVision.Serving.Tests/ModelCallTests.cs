using System.Net.Http.Json;
using System.Text.Json;
using OpenVision.Tests.Parity;
using OpenVision.Vision;

namespace OpenVision.Serving.Tests;

/// <summary>What reaches the model, read from <c>/health</c>'s counters and the image intake's instrumentation on a
/// server with a small largest call (8 items): no call is larger than that, every route's calls are counted, and
/// images are reduced to model size one at a time rather than all held at full size.</summary>
public sealed class ModelCallTests : IAsyncLifetime
{
    private const int MaxBatch = 8;
    private readonly OpenVisionEncoder encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(ServerFixture.Model));
    private EmbeddingServer server = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        server = await EmbeddingServer.StartAsync(encoder, new ServeOptions { Port = 0, MaxBatchSize = MaxBatch, MaxImagesPerRequest = 20 });
        client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
        encoder.Dispose();
    }

    [Fact]
    public async Task ARequestLargerThanTheLargestCallIsSplitAcrossCallsInOrder()
    {
        var texts = Enumerable.Range(0, 20).Select(i => $"caption number {i} of a test").ToArray();
        var before = await Health();
        var response = await client.PostAsJsonAsync("embed/text", new { texts });
        response.EnsureSuccessStatusCode();
        var after = await Health();
        Assert.Equal((3L, 20L), (after.TextCalls - before.TextCalls, after.TextItems - before.TextItems));   // 8 + 8 + 4
        using var expected = encoder.EncodeTexts(texts);
        AssertRows(expected, (await response.Content.ReadFromJsonAsync<EmbeddingResponse>())!.Embeddings);
    }

    [Fact]
    public async Task OpenAiEmbeddingsCountInHealth()
    {
        string png = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(ServerFixture.Image("chelsea.png")));
        var before = await Health();
        var response = await client.PostAsJsonAsync("v1/embeddings", new { model = ServerFixture.Model, input = new[] { "a cat", png, "a dog", "a bird" } });
        response.EnsureSuccessStatusCode();
        var after = await Health();
        Assert.Equal((1L, 3L, 1L, 1L), (after.TextCalls - before.TextCalls, after.TextItems - before.TextItems,
            after.ImageCalls - before.ImageCalls, after.ImageItems - before.ImageItems));
        // Normalized rows equal to the encoder's, though the shared batchers give raw features.
        var data = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data");
        using var expected = encoder.EncodeTexts(["a cat"]);
        AssertRows(expected, [data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()]);
    }

    // Each image is decoded, reduced to [3, S, S] and dropped before the next is decoded, on every route that takes
    // images: the most full-size pixels alive at once is one image's, not the request's 12 (which the old order held).
    [Fact]
    public async Task ImagesAreDecodedOneAtATimeOnEveryRoute()
    {
        string file = ServerFixture.Image("chelsea.png");
        byte[] bytes = File.ReadAllBytes(file);
        var decoded = ImageDecoder.Decode(file);
        long onePicture = (long)decoded.Width * decoded.Height;
        string[] base64 = Enumerable.Repeat(Convert.ToBase64String(bytes), 12).ToArray();
        using var expected = encoder.EncodeImageFiles(Enumerable.Repeat(file, 12).ToList());

        var json = await client.PostAsJsonAsync("embed/image", new { images = base64 });
        json.EnsureSuccessStatusCode();
        AssertRows(expected, (await json.Content.ReadFromJsonAsync<EmbeddingResponse>())!.Embeddings);

        using var form = new MultipartFormDataContent();
        foreach (var _ in base64) form.Add(new ByteArrayContent(bytes), "image", "chelsea.png");
        (await client.PostAsync("embed/image", form)).EnsureSuccessStatusCode();

        var openAi = await client.PostAsJsonAsync("v1/embeddings", new { model = ServerFixture.Model, input = base64.Select(b => "data:image/png;base64," + b).ToArray() });
        openAi.EnsureSuccessStatusCode();
        var classify = await client.PostAsJsonAsync("classify", new { images = base64, labels = new[] { "a cat", "a dog" } });
        classify.EnsureSuccessStatusCode();

        Assert.Equal(onePicture, server.Model.Intake.PeakLivePixels);
        Assert.Equal(0, server.Model.Intake.LivePixels);
    }

    private async Task<HealthResponse> Health() => (await client.GetFromJsonAsync<HealthResponse>("health"))!;

    private static void AssertRows(TorchSharp.torch.Tensor expected, float[][] actual)
    {
        Assert.Equal(expected.shape[0], actual.Length);
        using var got = TorchSharp.torch.tensor(actual.SelectMany(r => r).ToArray(), expected.shape);
        Assert.True(Tolerance.RelativeError(got, expected) <= 1e-5, $"relative error {Tolerance.RelativeError(got, expected):E3}");
    }
}
