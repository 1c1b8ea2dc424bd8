using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace OpenVision.Serving.Tests;

/// <summary>Every refusal the issue found answered with an empty 500 or a .NET type name is now a JSON 4xx that names
/// the problem (the fixture server takes at most 4 images and 1 MiB per request).</summary>
public class ErrorAnswerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fixture.Client;

    [Theory]
    [InlineData("classify", "{\"image\": \"AA==\", \"labels\": [\"a\"], \"templates\": [null]}", 400, "invalid_field", "'templates' must be an array of strings, but item 0 is null")]
    [InlineData("classify", "{\"image\": \"AA==\", \"labels\": [\"a\"], \"templates\": [\"no placeholder\"]}", 400, "invalid_field", "has no {} placeholder")]
    [InlineData("classify", "{\"image\": \"AA==\", \"labels\": [\"a\"], \"top\": \"3\"}", 400, "invalid_field", "'top' must be a whole number, not a string")]
    [InlineData("embed/text", "{\"texts\": [\"a\"], \"texts\": [\"b\"]}", 400, "duplicate_field", "field 'texts' appears more than once")]
    [InlineData("embed/text", "{\"text\": [\"a\"]}", 400, "unknown_field", "unknown field 'text' (this route takes texts, normalize)")]
    [InlineData("embed/text", "{\"texts\": [\"a\"], \"normalize\": \"yes\"}", 400, "invalid_field", "'normalize' must be true or false, not a string")]
    [InlineData("embed/text", "[\"a\"]", 400, "invalid_body", "the body must be a JSON object, not an array")]
    [InlineData("embed/text", "{\"texts\": [\"a\"", 400, "invalid_json", "invalid JSON (line 1")]
    [InlineData("embed/text", "", 400, "invalid_json", "the body is empty")]
    [InlineData("embed/image", "{\"images\": [\"AA==\", \"AA==\", \"AA==\", \"AA==\", \"AA==\"]}", 400, "too_many_items", "at most 4 images per request, got 5")]
    [InlineData("embed/image", "{\"images\": [\"aGVsbG8gd29ybGQ=\"]}", 400, "invalid_image", "image 0: ")]
    public async Task BadJsonBodiesAreJson4xxNamingTheField(string route, string body, int status, string code, string message)
    {
        var response = await Client.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));
        var error = await ErrorAssert.IsJsonError(response, status, code);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task DeeplyNestedJsonIsRefusedNotRecursedInto()
    {
        string body = "{\"texts\": " + new string('[', 100_000) + new string(']', 100_000) + "}";
        var error = await ErrorAssert.IsJsonError(await Client.PostAsync("embed/text", new StringContent(body, Encoding.UTF8, "application/json")), 400, "invalid_json");
        Assert.Contains("depth", error.Message);
    }

    [Fact]
    public async Task InvalidUtf8InsideAStringIs400()
    {
        // The JSON reader accepts the structure; the bytes only fail when the string is decoded (the fuzzer found this 500).
        byte[] body = [.. "{\"texts\": [\"a "u8, 0x89, 0xFE, .. "\"]}"u8];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var error = await ErrorAssert.IsJsonError(await Client.PostAsync("embed/text", content), 400, "invalid_json");
        Assert.Equal("item 0 of 'texts' is not valid UTF-8", error.Message);
    }

    [Fact]
    public async Task AMultipartBodyCutBeforeItsClosingBoundaryIs400()
    {
        using var form = new MultipartFormDataContent("cut-here") { { new ByteArrayContent(File.ReadAllBytes(ServerFixture.Image("chelsea.png"))), "image", "chelsea.png" } };
        byte[] whole = await form.ReadAsByteArrayAsync();
        var cut = new ByteArrayContent(whole[..(whole.Length - 20)]);
        cut.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut-here");
        var error = await ErrorAssert.IsJsonError(await Client.PostAsync("embed/image", cut), 400, "invalid_multipart");
        Assert.Equal("the multipart form ends before its closing boundary", error.Message);

        var noBoundary = new ByteArrayContent(whole);
        noBoundary.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data");
        await ErrorAssert.IsJsonError(await Client.PostAsync("classify", noBoundary), 400, "invalid_multipart");

        var whole200 = new ByteArrayContent(whole);                               // the negative control: the same body, uncut
        whole200.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=cut-here");
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync("embed/image", whole200)).StatusCode);
    }

    [Fact]
    public async Task WrongContentTypeOversizeUnknownRouteAndWrongMethodAreJson()
    {
        await ErrorAssert.IsJsonError(await Client.PostAsync("embed/text", new StringContent("texts=a", Encoding.UTF8, "text/plain")), 415, "unsupported_media_type");
        // Expect: 100-continue, as curl sends for large bodies: the server refuses on Content-Length before the body is
        // sent. Without it the refusal races the upload: the server closes the connection after its 413, and a client
        // still writing gets a broken pipe before it reads the answer (seen under load).
        using var big = new HttpRequestMessage(HttpMethod.Post, "embed/text")
        {
            Content = new StringContent("{\"texts\": [\"" + new string('a', 2 << 20) + "\"]}", Encoding.UTF8, "application/json"),
        };
        big.Headers.ExpectContinue = true;
        await ErrorAssert.IsJsonError(await Client.SendAsync(big), 413, "body_too_large");
        var notFound = await ErrorAssert.IsJsonError(await Client.GetAsync("no/such/route.ico"), 404, "not_found");
        Assert.Contains("POST /classify", notFound.Message);                       // it lists the routes there are,
        Assert.Contains("POST /v1/embeddings", notFound.Message);                  // every one mapped, not a list kept by hand
        Assert.Contains("GET|HEAD /v1/search/items/{row}/image", notFound.Message);
        Assert.DoesNotContain("{*path}", notFound.Message);
        var openAiWrongMethod = await Client.GetAsync("v1/embeddings");
        await ErrorAssert.IsJsonError(openAiWrongMethod, 405, "method_not_allowed");
        Assert.Equal("POST", string.Join(",", openAiWrongMethod.Content.Headers.Allow));
        await ErrorAssert.IsJsonError(await Client.DeleteAsync("v1/search/items/3/image"), 405, "method_not_allowed");   // a pattern with a parameter
        var wrongMethod = await Client.GetAsync("classify");
        await ErrorAssert.IsJsonError(wrongMethod, 405, "method_not_allowed");
        Assert.Equal("POST", string.Join(",", wrongMethod.Content.Headers.Allow));
        await ErrorAssert.IsJsonError(await Client.DeleteAsync("health"), 405, "method_not_allowed");
        Assert.Equal("ok", (await fixture.Health()).Status);
    }

    [Fact]
    public async Task EveryAnswerCarriesARequestIdAndAPlainCallerIdIsKept()
    {
        var ok = await Client.GetAsync("health");
        string made = Assert.Single(ok.Headers.GetValues("X-Request-Id"));
        Assert.False(string.IsNullOrWhiteSpace(made));

        using var mine = new HttpRequestMessage(HttpMethod.Post, "embed/text") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        mine.Headers.Add("X-Request-Id", "trace-42.a");
        var error = await ErrorAssert.IsJsonError(await Client.SendAsync(mine), 400, "missing_field");
        Assert.Equal("trace-42.a", error.RequestId);

        using var hostile = new HttpRequestMessage(HttpMethod.Get, "nowhere");
        hostile.Headers.TryAddWithoutValidation("X-Request-Id", "x y\" <script>");      // not plain: the server makes its own
        var replaced = await ErrorAssert.IsJsonError(await Client.SendAsync(hostile), 404);
        Assert.DoesNotContain("script", replaced.RequestId);
    }
}
