using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OpenVision.Serving;

/// <summary>A JSON request body read as a document: the fields a route takes, each checked for its kind, with messages
/// that name the field (the serializer's own messages name .NET types, which clients have no use for).</summary>
internal sealed class RequestJson : IDisposable
{
    // Request bodies are flat objects of arrays; anything deeper than this is not a request this service understands.
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 16 };

    private readonly JsonDocument document;
    private readonly Dictionary<string, JsonElement> fields = new(StringComparer.Ordinal);

    private RequestJson(JsonDocument document, IReadOnlyCollection<string> known)
    {
        this.document = document;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw ApiError.BadRequest("invalid_body", $"the body must be a JSON object, not {Kind(document.RootElement)}");
        foreach (var property in document.RootElement.EnumerateObject())
        {
            string name = Utf8(() => property.Name, "a field name");
            if (!known.Contains(name))
                throw ApiError.BadRequest("unknown_field", $"unknown field '{ApiError.Quote(name)}' (this route takes {string.Join(", ", known)})", ApiError.Quote(name));
            if (!fields.TryAdd(name, property.Value))
                throw ApiError.BadRequest("duplicate_field", $"field '{name}' appears more than once", name);
        }
    }

    /// <summary>Reads the body of <paramref name="request"/>, which must be JSON (or have no content type) and an object
    /// whose fields are among <paramref name="known"/>.</summary>
    public static async Task<RequestJson> ReadAsync(HttpRequest request, IReadOnlyCollection<string> known, bool formAccepted)
    {
        if (request.ContentType is not null && !request.HasJsonContentType())
            throw new ApiError(415, "unsupported_media_type",
                $"send JSON (application/json){(formAccepted ? " or a multipart form" : "")}, not {ApiError.Quote(request.ContentType)}");
        JsonDocument document;
        try { document = await JsonDocument.ParseAsync(request.Body, Options, request.HttpContext.RequestAborted).ConfigureAwait(false); }
        catch (JsonException e) { throw ApiError.BadRequest("invalid_json", InvalidJson(e)); }
        try { return new RequestJson(document, known); }
        catch { document.Dispose(); throw; }
    }

    /// <summary>A list of strings, or null when the field is absent or null.</summary>
    public IReadOnlyList<string>? Strings(string name)
    {
        if (!fields.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array) throw Wrong(name, "an array of strings", value);
        var list = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw ApiError.BadRequest("invalid_field", $"'{name}' must be an array of strings, but item {list.Count} is {Kind(item)}", name);
            list.Add(Utf8(() => item.GetString()!, $"item {list.Count} of '{name}'"));
        }
        return list;
    }

    /// <summary>A string, or null when absent or null.</summary>
    public string? String(string name) => Field(name) is { } value
        ? value.ValueKind == JsonValueKind.String ? Utf8(() => value.GetString()!, $"'{name}'") : throw Wrong(name, "a string", value) : null;

    /// <summary>true or false, or null when absent or null.</summary>
    public bool? Bool(string name) => Field(name) is { } value
        ? value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw Wrong(name, "true or false", value) : null;

    /// <summary>A whole number that fits 32 bits, or null when absent or null.</summary>
    public int? Int(string name) => Field(name) is { } value
        ? value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) ? n : throw Wrong(name, "a whole number", value) : null;

    /// <summary>A field as it was sent (any kind), or null when absent or null; for fields of several shapes.</summary>
    public JsonElement? Element(string name) => Field(name);

    private JsonElement? Field(string name) =>
        fields.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    // The reader checks structure, not encoding: invalid UTF-8 inside a string only shows when it is decoded.
    private static string Utf8(Func<string> read, string what)
    {
        try { return read(); }
        catch (InvalidOperationException) { throw ApiError.BadRequest("invalid_json", $"{what} is not valid UTF-8"); }
    }

    private static ApiError Wrong(string name, string expected, JsonElement value) =>
        ApiError.BadRequest("invalid_field", $"'{name}' must be {expected}, not {Kind(value)}", name);

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => ApiError.Quote(value.GetRawText(), 24),   // "not 2.5" says more than "not a number"
        JsonValueKind.True or JsonValueKind.False => "true or false",
        _ => "null",
    };

    // The reader's messages describe the syntax ("'x' is an invalid start of a value."); keep that sentence and give
    // the position in our own words, counting from 1 as editors do.
    private static string InvalidJson(JsonException e)
    {
        string message = e.Message;
        foreach (string tail in new[] { " Path:", " LineNumber:" })
            if (message.IndexOf(tail, StringComparison.Ordinal) is int cut and >= 0) message = message[..cut];
        if (message.Contains("System.", StringComparison.Ordinal) || message.Length == 0) message = "malformed JSON.";
        if (message.Contains("does not contain any JSON tokens", StringComparison.Ordinal)) return "the body is empty or not JSON";
        string where = e.LineNumber is long line && e.BytePositionInLine is long position ? $" (line {line + 1}, byte {position + 1})" : "";
        return $"invalid JSON{where}: {message.TrimEnd()}";
    }

    public void Dispose() => document.Dispose();
}
