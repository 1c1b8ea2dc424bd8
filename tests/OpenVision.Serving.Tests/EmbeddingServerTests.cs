using System.Net;
using System.Net.Http.Json;
using System.Text;
using OpenVision.Tests.Parity;

namespace OpenVision.Serving.Tests;

/// <summary>The service answers what the encoder computes, over real HTTP on the loopback address.</summary>
public class EmbeddingServerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task HealthAndPageAnswerOnLoopback()
    {
        Assert.Equal("127.0.0.1", fixture.Server.Address.Host);
        var health = await fixture.Health();
        Assert.Equal(("ok", ServerFixture.Model, fixture.Encoder.Config.EmbedDim), (health.Status, health.Model, health.EmbedDim));
        string page = await Client.GetStringAsync("/");
        Assert.Contains("<title>OpenVision zero-shot</title>", page);
        Assert.Contains("fetch('classify'", page);
    }

    [Fact]
    public async Task ASecondServerOnTheSamePortIsRefusedByAddress()
    {
        int port = fixture.Server.Address.Port;
        var e = await Assert.ThrowsAsync<IOException>(() => EmbeddingServer.StartAsync(fixture.Encoder, new ServeOptions { Port = port }));
        Assert.Equal($"cannot listen on 127.0.0.1:{port}: the address is already in use", e.Message);
        Assert.Equal("ok", (await fixture.Health()).Status);   // the first one still answers
    }

    [Fact]
    public async Task TextEmbeddingsEqualTheEncoders()
    {
        string[] texts = ["a cat", "two dogs in the snow"];
        var response = await Client.PostAsJsonAsync("embed/text", new { texts });
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<EmbeddingResponse>())!;
        using var expected = fixture.Encoder.EncodeTexts(texts);
        AssertRows(expected, body.Embeddings);

        var raw = (await (await Client.PostAsJsonAsync("embed/text", new { texts, normalize = false })).Content.ReadFromJsonAsync<EmbeddingResponse>())!;
        using var expectedRaw = fixture.Encoder.EncodeTexts(texts, normalize: false);
        AssertRows(expectedRaw, raw.Embeddings);
    }

    [Fact]
    public async Task ImageEmbeddingsFromJsonAndMultipartEqualTheEncoders()
    {
        string[] files = [ServerFixture.Image("chelsea.png"), ServerFixture.Image("rocket.jpg")];
        using var expected = fixture.Encoder.EncodeImageFiles(files);
        var json = await Client.PostAsJsonAsync("embed/image", new { images = files.Select(f => Convert.ToBase64String(File.ReadAllBytes(f))).ToArray() });
        json.EnsureSuccessStatusCode();
        AssertRows(expected, (await json.Content.ReadFromJsonAsync<EmbeddingResponse>())!.Embeddings);

        using var form = new MultipartFormDataContent();
        foreach (var f in files) form.Add(new ByteArrayContent(File.ReadAllBytes(f)), "image", Path.GetFileName(f));
        var multipart = await Client.PostAsync("embed/image", form);
        multipart.EnsureSuccessStatusCode();
        AssertRows(expected, (await multipart.Content.ReadFromJsonAsync<EmbeddingResponse>())!.Embeddings);
    }

    [Fact]
    public async Task ClassifyMatchesTheEncodersClassifier()
    {
        string[] labels = ["a cat", "a rocket", "a horse"];
        string[] templates = ["a photo of {}.", "{}"];
        string file = ServerFixture.Image("rocket.jpg");
        using var classifier = fixture.Encoder.CreateClassifier(labels, templates);
        using var features = fixture.Encoder.EncodeImageFiles([file]);
        var expected = classifier.Top(features, 3)[0];

        var response = await Client.PostAsJsonAsync("classify", new { image = "data:image/jpeg;base64," + Convert.ToBase64String(File.ReadAllBytes(file)), labels, templates });
        response.EnsureSuccessStatusCode();
        var result = (await response.Content.ReadFromJsonAsync<ClassifyResponse>())!.Results[0];
        Assert.Equal(expected.Select(s => s.Label), result.Select(s => s.Label));
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i].Probability, result[i].Probability, 4);

        using var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(file)), "image", "rocket.jpg" } };
        foreach (var l in labels) form.Add(new StringContent(l), "labels");
        var multipart = await Client.PostAsync("classify", form);
        Assert.True(multipart.IsSuccessStatusCode, await multipart.Content.ReadAsStringAsync());
        Assert.Equal(3, (await multipart.Content.ReadFromJsonAsync<ClassifyResponse>())!.Results[0].Count);
    }

    [Fact]
    public async Task ConcurrentRequestsShareModelCalls()
    {
        var before = await fixture.Health();
        var texts = Enumerable.Range(0, 24).Select(i => $"caption {i} of a small test").ToArray();
        var responses = await Task.WhenAll(texts.Select(t => Client.PostAsJsonAsync("embed/text", new { texts = new[] { t } })));
        using var expected = fixture.Encoder.EncodeTexts(texts);
        var rows = new List<float[]>();
        foreach (var r in responses) rows.Add((await r.Content.ReadFromJsonAsync<EmbeddingResponse>())!.Embeddings[0]);
        AssertRows(expected, [.. rows]);
        var after = await fixture.Health();
        Assert.Equal(24, after.TextItems - before.TextItems);
        Assert.True(after.TextCalls - before.TextCalls < 24, $"{after.TextCalls - before.TextCalls} calls for 24 concurrent requests");
    }

    [Theory]
    [InlineData("embed/text", "{\"texts\": [\"a\"", "invalid JSON")]
    [InlineData("embed/text", "{\"texts\": []}", "'texts' is missing or empty")]
    [InlineData("embed/text", "{\"texts\": [\"ok\", \"  \"]}", "texts must not be empty")]
    [InlineData("embed/image", "{\"images\": [\"%%%\"]}", "image 0 is not valid base64")]
    [InlineData("embed/image", "{\"images\": [\"aGVsbG8gd29ybGQ=\"]}", "image 0")]
    [InlineData("embed/image", "{\"images\": [\"AA==\", \"AA==\", \"AA==\", \"AA==\", \"AA==\"]}", "at most 4 images")]
    [InlineData("classify", "{\"image\": \"AA==\"}", "'labels' is missing or empty")]
    public async Task BadRequestsGet400WithAMessage(string route, string body, string message)
    {
        var response = await Client.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>())!;
        Assert.Contains(message, error.Error.Message);
    }

    [Fact]
    public async Task OversizedBodiesGet413AndWrongContentTypes415()
    {
        var big = new { texts = new[] { new string('a', 2 << 20) } };
        var response = await Client.PostAsJsonAsync("embed/text", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var text = await Client.PostAsync("embed/text", new StringContent("texts=a", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        Assert.Contains("send JSON", (await text.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Message);
        Assert.Equal("ok", (await fixture.Health()).Status);                     // the server is still serving
    }

    private static void AssertRows(TorchSharp.torch.Tensor expected, float[][] actual)
    {
        Assert.Equal(expected.shape[0], actual.Length);
        using var got = TorchSharp.torch.tensor(actual.SelectMany(r => r).ToArray(), expected.shape);
        Assert.True(Tolerance.RelativeError(got, expected) <= 1e-5, $"relative error {Tolerance.RelativeError(got, expected):E3}");
    }
}
