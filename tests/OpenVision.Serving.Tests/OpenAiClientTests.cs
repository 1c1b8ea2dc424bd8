using System.Buffers.Binary;
using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;

namespace OpenVision.Serving.Tests;

/// <summary><c>/v1/embeddings</c>, <c>/v1/models</c> and <c>/v1/search</c> driven by clients nobody here wrote (the
/// official npm and .NET OpenAI clients) and by raw requests for what those clients cannot send; every vector is
/// compared with what <c>openvision embed</c> computes.</summary>
public sealed class OpenAiClientTests(SearchServerFixture fixture, NodeOpenAiClient npm)
    : IClassFixture<SearchServerFixture>, IClassFixture<NodeOpenAiClient>
{
    private static readonly string[] Texts = ["a cat", "a dog", "a photo of a red bicycle"];

    [Theory]
    [InlineData(null)]          // the client's default: it asks for base64 and decodes it itself
    [InlineData("float")]
    public void NpmClientVectorsEqualEmbed(string? format)
    {
        var answer = npm.Embeddings(fixture.Server.Address, SearchServerFixture.Key, fixture.ModelId, Texts, format);
        Assert.True(answer.TryGetProperty("embeddings", out var rows), answer.ToString());
        SearchServerFixture.AssertClose(fixture.TextReference(Texts), Floats(rows), $"npm client ({format ?? "default"})");
        int tokens = Texts.Sum(t => fixture.Encoder.Tokenizer.Encode(t).Count(id => id != 0));
        Assert.Equal(tokens, answer.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(tokens, answer.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void NpmClientBase64DecodesToTheSameFloats()
    {
        var answer = npm.Embeddings(fixture.Server.Address, SearchServerFixture.Key, fixture.ModelId, Texts, "base64");
        var rows = answer.GetProperty("embeddings").EnumerateArray().Select(e => FromBase64(e.GetString()!)).ToArray();
        SearchServerFixture.AssertClose(fixture.TextReference(Texts), rows, "npm client base64");
    }

    [Fact]
    public void NpmClientSendsAnImageAsADataUrlString()
    {
        string image = ServerFixture.Image("chelsea.png");
        var answer = npm.Embeddings(fixture.Server.Address, SearchServerFixture.Key, fixture.ModelId,
            new[] { "a cat", SearchServerFixture.DataUrl(image) }, "float");
        var rows = Floats(answer.GetProperty("embeddings"));
        SearchServerFixture.AssertClose(fixture.TextReference(["a cat"]), rows[..1], "text next to an image");
        SearchServerFixture.AssertClose(fixture.ImageReference([image]), rows[1..], "image as a data: URL");
    }

    [Fact]
    public void NpmClientSeesUnknownModelsAndWrongKeysAsErrors()
    {
        var unknown = npm.Embeddings(fixture.Server.Address, SearchServerFixture.Key, "no-such-model", Texts, null);
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.Contains("no-such-model", unknown.GetProperty("message").GetString());
        var wrongKey = npm.Embeddings(fixture.Server.Address, "wrong", fixture.ModelId, Texts, null);
        Assert.Equal(401, wrongKey.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task DotNetClientThroughIEmbeddingGeneratorEqualsEmbed()
    {
        var client = new OpenAIClient(new ApiKeyCredential(SearchServerFixture.Key), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.Address, "v1") });
        IEmbeddingGenerator<string, Embedding<float>> generator = client.GetEmbeddingClient(fixture.ModelId).AsIEmbeddingGenerator();
        var embeddings = await generator.GenerateAsync(["a cat", "a dog"]);
        SearchServerFixture.AssertClose(fixture.TextReference(["a cat", "a dog"]), embeddings.Select(e => e.Vector.ToArray()).ToArray(), ".NET client");
    }

    [Fact]
    public async Task ImagesGoInAsObjectsOrWithInfinitysModality()
    {
        string[] paths = [ServerFixture.Image("horse.png"), ServerFixture.Image("rocket.jpg")];
        var expected = fixture.ImageReference(paths);
        var asObjects = await Embed(new { model = fixture.ModelId, input = new object[] { new { image = SearchServerFixture.DataUrl(paths[0]) }, new { text = "a horse" } } });
        SearchServerFixture.AssertClose([expected[0], fixture.TextReference(["a horse"])[0]], Floats(asObjects.GetProperty("data"), "embedding"), "objects");
        int side = fixture.Encoder.ImageSize / fixture.Encoder.Config.VisionCfg.PatchSize;
        int textTokens = fixture.Encoder.Tokenizer.Encode("a horse").Count(id => id != 0);
        Assert.Equal(side * side + textTokens, asObjects.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        var modality = await Embed(new { model = fixture.ModelId, modality = "image", input = paths.Select(SearchServerFixture.DataUrl).ToArray() });
        SearchServerFixture.AssertClose(expected, Floats(modality.GetProperty("data"), "embedding"), "modality image");
        Assert.Equal("list", modality.GetProperty("object").GetString());
        Assert.Equal(fixture.ModelId, modality.GetProperty("model").GetString());
        Assert.Equal([0, 1], modality.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("index").GetInt32()));
        Assert.All(modality.GetProperty("data").EnumerateArray(), d => Assert.Equal("embedding", d.GetProperty("object").GetString()));
    }

    [Theory]
    [InlineData("""{"model":"M","input":"a cat","dimensions":8}""", 400, "dimensions other than")]
    [InlineData("""{"model":"M","input":"https://example.com/cat.png","modality":"image"}""", 400, "remote URLs are not fetched")]
    [InlineData("""{"model":"M","input":[{"image":"http://example.com/cat.png"}]}""", 400, "remote URLs are not fetched")]
    [InlineData("""{"model":"M","input":[[1,2,3]]}""", 400, "token-id input is not supported")]
    [InlineData("""{"model":"M","input":"a cat","encoding_format":"int8"}""", 400, "'encoding_format' must be")]
    [InlineData("""{"model":"other","input":"a cat"}""", 404, "the model 'other' does not exist")]
    [InlineData("""{"model":"M","input":[]}""", 400, "'input' is empty")]
    public async Task BadRequestsAreOpenAiShapedErrors(string body, int status, string message)
    {
        using var content = new StringContent(body.Replace("\"M\"", $"\"{fixture.ModelId}\""), System.Text.Encoding.UTF8, "application/json");
        var response = await fixture.Client.PostAsync("v1/embeddings", content);
        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        if (status == 404) Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task TheNativeWidthAsDimensionsIsANoOp()
    {
        var plain = await Embed(new { model = fixture.ModelId, input = "a cat" });
        var sized = await Embed(new { model = fixture.ModelId, input = "a cat", dimensions = fixture.Encoder.Config.EmbedDim });
        Assert.Equal(Floats(plain.GetProperty("data"), "embedding"), Floats(sized.GetProperty("data"), "embedding"));
    }

    [Theory]
    [InlineData("v1/embeddings", """{"model":"M","input":"data:image/png;base64,aGVsbG8="}""", "input", "input 0: unknown image format")]
    [InlineData("v1/embeddings", """{"model":"M","input":["a cat", " "]}""", "input", "input 1 is empty")]
    [InlineData("v1/search", """{"query":""}""", "query", "'query' is empty")]
    [InlineData("v1/search", """{"query":{"image":"https://example.com/cat.png"}}""", "query", "'query': remote URLs are not fetched")]
    [InlineData("v1/search", """{"query":{"image":"data:image/png;base64,aGVsbG8="}}""", "query", "'query': unknown image format")]
    [InlineData("v1/search", """{"query":"a cat","top_k":2.5}""", "top_k", "'top_k' must be a whole number, not 2.5")]
    public async Task ErrorsNameTheFieldTheRequestSent(string route, string body, string param, string message)
    {
        using var content = new StringContent(body.Replace("\"M\"", $"\"{fixture.ModelId}\""), System.Text.Encoding.UTF8, "application/json");
        var response = await fixture.Client.PostAsync(route, content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.StartsWith(message, error.GetProperty("message").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task ModelsListTheServedModel()
    {
        var list = JsonDocument.Parse(await fixture.Client.GetStringAsync("v1/models")).RootElement;
        Assert.Equal("list", list.GetProperty("object").GetString());
        var card = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal(fixture.ModelId, card.GetProperty("id").GetString());
        Assert.Equal("model", card.GetProperty("object").GetString());
        Assert.Equal("openvision", card.GetProperty("owned_by").GetString());
        Assert.True(card.GetProperty("created").GetInt64() > 0);
        var one = JsonDocument.Parse(await fixture.Client.GetStringAsync($"v1/models/{fixture.ModelId}")).RootElement;
        Assert.Equal(fixture.ModelId, one.GetProperty("id").GetString());
        var missing = await fixture.Client.GetAsync("v1/models/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var anonymous = new HttpClient { BaseAddress = fixture.Server.Address };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v1/models")).StatusCode);
    }

    [Fact]
    public async Task SearchRanksLikeTheIndexItself()
    {
        var answer = await Post("v1/search", new { query = "a photo of a cat", top_k = 3 });
        var expected = fixture.Index.Search(fixture.TextReference(["a photo of a cat"])[0], 3);
        var data = answer.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(expected.Select(h => h.Item.Key), data.Select(d => d.GetProperty("key").GetString()));
        Assert.Equal([1, 2, 3], data.Select(d => d.GetProperty("rank").GetInt32()));
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(expected[i].Score - data[i].GetProperty("score").GetSingle()) <= 1e-5);
        Assert.Equal(SearchServerFixture.Images.Length, answer.GetProperty("index").GetProperty("count").GetInt64());
        Assert.Equal(fixture.ModelId, answer.GetProperty("index").GetProperty("model").GetString());   // the id, not the folder it was built from
        Assert.Equal(fixture.ModelId, JsonDocument.Parse(await fixture.Client.GetStringAsync("v1/search")).RootElement.GetProperty("model").GetString());

        // Image → image: an indexed image finds itself first, at cosine 1.
        string horse = ServerFixture.Image("horse.png");
        var byImage = await Post("v1/search", new { query = new { image = SearchServerFixture.DataUrl(horse) }, top_k = 2 });
        var first = byImage.GetProperty("data")[0];
        Assert.Equal(horse, first.GetProperty("key").GetString());
        Assert.True(first.GetProperty("score").GetSingle() > 0.9999f);

        // Thumbnails: the indexed file, byte for byte; a row the index lacks is a 404.
        var bytes = await fixture.Client.GetByteArrayAsync($"v1/search/items/{first.GetProperty("row").GetInt64()}/image");
        Assert.Equal(File.ReadAllBytes(horse), bytes);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Client.GetAsync("v1/search/items/999/image")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Client.GetAsync("v1/search/items/..%2F..%2Fetc%2Fpasswd/image")).StatusCode);
    }

    [Fact]
    public async Task WithoutAnIndexSearchSaysNoneIsLoaded()
    {
        await using var server = await EmbeddingServer.StartAsync(fixture.Encoder, new ServeOptions { Port = 0 });
        using var client = new HttpClient { BaseAddress = server.Address };
        var response = await client.PostAsJsonAsync("v1/search", new { query = "a cat" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("no_index_loaded", error.GetProperty("code").GetString());
    }

    private async Task<JsonElement> Embed(object body) => await Post("v1/embeddings", body);

    private async Task<JsonElement> Post(string route, object body)
    {
        var response = await fixture.Client.PostAsJsonAsync(route, body);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static float[][] Floats(JsonElement rows, string? field = null) =>
        rows.EnumerateArray().Select(row => (field is null ? row : row.GetProperty(field)).EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();

    private static float[] FromBase64(string text)
    {
        var bytes = Convert.FromBase64String(text);
        return Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();
    }
}
