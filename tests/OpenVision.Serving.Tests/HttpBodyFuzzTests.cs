using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace OpenVision.Serving.Tests;

/// <summary>Seeded, bounded fuzzing of request bodies against a real server on 127.0.0.1: every answer is JSON with a
/// status below 500 (200 where the body happens to be valid, which the valid controls require), and the server
/// stays healthy. The table of answers per category is printed.</summary>
public class HttpBodyFuzzTests(ServerFixture fixture, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private const int Seed = 20261202;
    private const string Punctuation = "{}[]\",:\\0-e.tfn";
    private static readonly byte[] Png = File.ReadAllBytes(ServerFixture.Image("block.png"));
    private static readonly string PngBase64 = Convert.ToBase64String(Png);
    private readonly Random random = new(Seed);
    private readonly Dictionary<string, SortedDictionary<int, int>> table = [];

    [Fact]
    public async Task MalformedBodiesAreJson4xxAndTheServerStaysHealthy()
    {
        for (int i = 0; i < 60; i++) await Send("json bytes: classify", "classify", Json(MutateBytes(ClassifyBody().ToJsonString())));
        for (int i = 0; i < 60; i++) await Send("json bytes: embed/text", "embed/text", Json(MutateBytes(TextBody().ToJsonString())));
        for (int i = 0; i < 40; i++) await Send("json values: classify", "classify", Json(Encoding.UTF8.GetBytes(MutateValue(ClassifyBody()))));
        for (int i = 0; i < 30; i++) await Send("json values: embed/text", "embed/text", Json(Encoding.UTF8.GetBytes(MutateValue(TextBody()))));
        for (int i = 0; i < 30; i++) await Send("multipart truncated", random.Next(2) == 0 ? "classify" : "embed/image", TruncatedMultipart());
        for (int i = 0; i < 20; i++) await Send("multipart wrong boundary", "classify", WrongBoundary(i));
        for (int i = 0; i < 8; i++) await Send("huge field counts", i % 2 == 0 ? "classify" : "embed/image", HugeFieldCount(i));
        for (int i = 0; i < 20; i++) await Send("invalid base64", "embed/image", Json(JsonSerializer.SerializeToUtf8Bytes(new { images = new[] { InvalidBase64(i) } })));
        for (int i = 0; i < 20; i++) await Send("non-image bytes", "embed/image", NonImage(i));
        for (int i = 0; i < 12; i++) await Send("deep nesting", i % 2 == 0 ? "classify" : "embed/text", Json(Encoding.UTF8.GetBytes(DeepNesting(i))));
        for (int i = 0; i < 10; i++) await Send("valid (must be 200)", i % 2 == 0 ? "classify" : "embed/text",
            Json(Encoding.UTF8.GetBytes((i % 2 == 0 ? ClassifyBody() : TextBody()).ToJsonString())), mustSucceed: true);

        output.WriteLine($"seed {Seed}; answers per category (status: count)");
        foreach (var (category, counts) in table)
            output.WriteLine($"{category,-28} {counts.Values.Sum(),4}  {string.Join("  ", counts.Select(c => $"{c.Key}: {c.Value}"))}");
        Assert.True(table.Values.Sum(c => c.Values.Sum()) >= 300);
        var health = await fixture.Health();
        Assert.Equal(("ok", 0L), (health.Status, health.ActiveRequests));
    }

    private async Task Send(string category, string route, HttpContent content, bool mustSucceed = false)
    {
        byte[] sent = await content.ReadAsByteArrayAsync();
        var response = await fixture.Client.PostAsync(route, content);
        int status = (int)response.StatusCode;
        var counts = table.TryGetValue(category, out var c) ? c : table[category] = [];
        counts[status] = counts.GetValueOrDefault(status) + 1;
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status < 500 && (!mustSucceed || status == 200), $"{category}: HTTP {status} for POST {route}: {body}\nsent ({sent.Length} bytes, base64): {Convert.ToBase64String(sent[..Math.Min(sent.Length, 600)])}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"{category}: not JSON: {body}");
        using var document = JsonDocument.Parse(body);
        if (status >= 400)
        {
            var error = document.RootElement.GetProperty("error");
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), body);
            Assert.False(string.IsNullOrEmpty(error.GetProperty("request_id").GetString()), body);
            ErrorAssert.IsClean(body);
        }
    }

    private static JsonObject ClassifyBody() => new()
    {
        ["image"] = PngBase64, ["labels"] = new JsonArray("a cat", "a dog", "a car"), ["templates"] = new JsonArray("a photo of {}."), ["top"] = 2,
    };

    private static JsonObject TextBody() => new() { ["texts"] = new JsonArray("a cat", "two dogs in the snow"), ["normalize"] = true };

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    // Byte-level damage: deletions, insertions of JSON punctuation or arbitrary bytes, repeats and truncation.
    private byte[] MutateBytes(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json).ToList();
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8))); break;
                case 1: bytes.Insert(at, (byte)Punctuation[random.Next(Punctuation.Length)]); break;
                case 2: bytes.Insert(at, (byte)random.Next(256)); break;
                case 3: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16)))); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }

    // Value-level damage to a well-formed body: a field's value replaced, a field dropped, an unknown or repeated field.
    private string MutateValue(JsonObject body)
    {
        var names = body.Select(p => p.Key).ToList();
        string name = names[random.Next(names.Count)];
        switch (random.Next(4))
        {
            case 0: body.Remove(name); return body.ToJsonString();
            case 1: body["unexpected_" + random.Next(100)] = 1; return body.ToJsonString();
            case 2:
                string json = body.ToJsonString();
                return json[..^1] + $",\"{name}\":{body[name]!.ToJsonString()}}}";     // the same key twice
            default: body[name] = RandomValue(0); return body.ToJsonString();
        }
    }

    private JsonNode? RandomValue(int depth) => random.Next(depth > 2 ? 7 : 10) switch
    {
        0 => null,
        1 => random.Next(-5, 5),
        2 => 1e300 * random.NextDouble(),
        3 => random.Next(2) == 0,
        4 => new string('x', random.Next(0, 5000)),
        5 => "{}" + random.Next(),
        6 => "",
        7 => new JsonArray(Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomValue(depth + 1)).ToArray()),
        8 => new JsonArray(Enumerable.Range(0, random.Next(1000, 3000)).Select(i => (JsonNode?)$"l{i}").ToArray()),
        _ => new JsonObject { ["k"] = RandomValue(depth + 1) },
    };

    private static byte[] FormBytes(string boundary, Action<MultipartFormDataContent> fill)
    {
        using var form = new MultipartFormDataContent(boundary);
        fill(form);
        return form.ReadAsByteArrayAsync().GetAwaiter().GetResult();
    }

    private static void ClassifyForm(MultipartFormDataContent form)
    {
        form.Add(new ByteArrayContent(Png), "image", "block.png");
        form.Add(new StringContent("a cat"), "labels");
        form.Add(new StringContent("a dog"), "labels");
    }

    private static ByteArrayContent Multipart(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private ByteArrayContent TruncatedMultipart()
    {
        byte[] whole = FormBytes("fuzz-boundary", ClassifyForm);
        return Multipart(whole[..random.Next(whole.Length - 2)], "multipart/form-data; boundary=fuzz-boundary");
    }

    private ByteArrayContent WrongBoundary(int i)
    {
        byte[] whole = FormBytes("right-boundary", ClassifyForm);
        string type = (i % 5) switch
        {
            0 => "multipart/form-data; boundary=wrong-boundary",
            1 => "multipart/form-data",
            2 => "multipart/form-data; boundary=",
            3 => "multipart/form-data; boundary=" + new string('b', 200),
            _ => "multipart/form-data; boundary=\"right-boundary",
        };
        if (i >= 10) whole = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(whole).Replace("--right-boundary--", "--right-boundary"));
        return Multipart(whole, type);
    }

    private HttpContent HugeFieldCount(int i) => (i % 4) switch
    {
        0 => Multipart(FormBytes("many", f => { ClassifyForm(f); for (int k = 0; k < 5000; k++) f.Add(new StringContent("x"), "labels"); }), "multipart/form-data; boundary=many"),
        1 => Multipart(FormBytes("files", f => { for (int k = 0; k < 2000; k++) f.Add(new ByteArrayContent(Png[..8]), "image", $"{k}.png"); }), "multipart/form-data; boundary=files"),
        2 => Json(JsonSerializer.SerializeToUtf8Bytes(new { image = PngBase64, labels = Enumerable.Range(0, 100_000).Select(k => "x").ToArray() })),
        _ => Json(Encoding.UTF8.GetBytes("{" + string.Join(",", Enumerable.Range(0, 50_000).Select(k => $"\"f{k}\":{k}")) + "}")),
    };

    private string InvalidBase64(int i) => (i % 5) switch
    {
        0 => PngBase64[..(PngBase64.Length - 1 - random.Next(3))],               // padding lost
        1 => PngBase64.Insert(random.Next(PngBase64.Length), "!*%"[random.Next(3)].ToString()),
        2 => "data:image/png;base64" + PngBase64,                                 // no comma
        3 => "data:," + new string('=', random.Next(1, 9)),
        _ => string.Concat(Enumerable.Range(0, random.Next(1, 40)).Select(_ => (char)random.Next(0x20, 0x7f))),
    };

    private HttpContent NonImage(int i)
    {
        byte[] bytes = (i % 4) switch
        {
            0 => RandomBytes(random.Next(1, 4000)),
            1 => Png[..random.Next(1, Png.Length - 1)],                              // a real PNG cut short
            2 => [.. Png[..16], .. RandomBytes(200)],                                 // a PNG signature, then noise
            _ => Encoding.UTF8.GetBytes("these are notes, not a picture"),
        };
        if (i % 2 == 0) return Json(JsonSerializer.SerializeToUtf8Bytes(new { images = new[] { Convert.ToBase64String(bytes) } }));
        return Multipart(FormBytes("noise", f => f.Add(new ByteArrayContent(bytes), "image", "noise.png")), "multipart/form-data; boundary=noise");
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private string DeepNesting(int i)
    {
        int depth = new[] { 15, 17, 64, 1000, 100_000 }[i % 5];
        string field = i % 2 == 0 ? "labels" : "texts";
        string open = i % 3 == 0 ? string.Concat(Enumerable.Repeat("{\"a\":", depth)) : new string('[', depth);
        string close = i % 3 == 0 ? new string('}', depth) : new string(']', depth);
        return $"{{\"{field}\": {open}\"x\"{close}}}";
    }
}
