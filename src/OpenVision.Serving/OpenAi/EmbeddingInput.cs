using System.Text.Json;
using OpenVision.Vision;

namespace OpenVision.Serving.OpenAi;

/// <summary>One item of an embeddings request's <c>input</c>: a text, or an image given as a <c>data:</c> URL.</summary>
/// <param name="Text">The text, when the item is text.</param>
/// <param name="ImageDataUrl">The <c>data:image/…;base64,…</c> URL, when the item is an image.</param>
internal sealed record EmbeddingInput(string? Text, string? ImageDataUrl)
{
    private const string ImagePrefix = "data:image/";

    /// <summary>True for image items.</summary>
    public bool IsImage => ImageDataUrl is not null;

    /// <summary>Reads <c>input</c>: a string, or an array of strings and <c>{"text": …}</c> / <c>{"image": …}</c>
    /// objects. With <paramref name="modality"/> "image" every string is an image (Infinity's switch); with "text"
    /// every string is text; without it a string that starts with <c>data:image/</c> is an image.</summary>
    public static IReadOnlyList<EmbeddingInput> Read(JsonElement? input, string? modality, int maxItems)
    {
        if (modality is not (null or "text" or "image"))
            throw ApiError.BadRequest("invalid_field", $"'modality' must be \"text\" or \"image\", not \"{ApiError.Quote(modality)}\"", "modality");
        if (input is not { } value) throw ApiError.BadRequest("missing_field", "'input' is missing", "input");
        var items = value.ValueKind switch
        {
            JsonValueKind.String => [FromString(value, modality, "input 0", "input")],
            JsonValueKind.Array => value.EnumerateArray().Select((item, i) => FromItem(item, modality, $"input {i}", "input")).ToList(),
            _ => throw ApiError.BadRequest("invalid_field", "'input' must be a string or an array of strings", "input"),
        };
        if (items.Count == 0) throw ApiError.BadRequest("missing_field", "'input' is empty", "input");
        if (items.Count > maxItems) throw ApiError.BadRequest("too_many_items", $"at most {maxItems} inputs per request, got {items.Count}", "input");
        return items;
    }

    /// <summary>Reads one item: a string (read as the array form reads it, by <paramref name="modality"/>) or a
    /// <c>{"text"}</c> / <c>{"image"}</c> object; errors name the request's field <paramref name="field"/>.</summary>
    public static EmbeddingInput ReadOne(JsonElement item, string? modality, string field) => FromItem(item, modality, $"'{field}'", field);

    /// <summary>Decodes an image data: URL; <paramref name="what"/> names it in errors.</summary>
    public static DecodedImage Decode(string dataUrl, string what, string param, ImageDecoderOptions options)
    {
        int comma = dataUrl.IndexOf(',');
        if (comma < 0 || !dataUrl[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            throw ApiError.BadRequest("invalid_image", $"{what} must be a base64 data: URL (data:image/png;base64,...)", param);
        byte[] bytes;
        try { bytes = Convert.FromBase64String(dataUrl[(comma + 1)..]); }
        catch (FormatException) { throw ApiError.BadRequest("invalid_image", $"{what} is not valid base64", param); }
        try { return ImageDecoder.Decode(bytes, what, options); }
        catch (ImageDecodeException e) { throw ApiError.BadRequest("invalid_image", e.Message, param); }
    }

    /// <summary>Checks that <paramref name="url"/> is an image data: URL; remote URLs are refused, never fetched.</summary>
    public static string CheckImageUrl(string url, string what, string param)
    {
        if (url.StartsWith(ImagePrefix, StringComparison.OrdinalIgnoreCase)) return url;
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            throw ApiError.BadRequest("remote_url_refused", $"{what}: remote URLs are not fetched; send the image as a data: URL (data:image/png;base64,...)", param);
        throw ApiError.BadRequest("invalid_image", $"{what} must be an image data: URL (data:image/png;base64,...)", param);
    }

    private static EmbeddingInput FromItem(JsonElement item, string? modality, string what, string param) => item.ValueKind switch
    {
        JsonValueKind.String => FromString(item, modality, what, param),
        JsonValueKind.Object => FromObject(item, what, param),
        JsonValueKind.Number or JsonValueKind.Array => throw ApiError.BadRequest("unsupported_input",
            "token-id input is not supported: OpenVision tokenizes text itself, so send the text as a string", param),
        _ => throw ApiError.BadRequest("invalid_field", $"{what} must be a string or an object with \"text\" or \"image\"", param),
    };

    private static EmbeddingInput FromString(JsonElement item, string? modality, string what, string param)
    {
        string text = Read(item, what, param);
        bool image = modality == "image" || (modality is null && text.StartsWith(ImagePrefix, StringComparison.OrdinalIgnoreCase));
        if (image) return new EmbeddingInput(null, CheckImageUrl(text, what, param));
        if (string.IsNullOrWhiteSpace(text)) throw ApiError.BadRequest("invalid_field", $"{what} is empty", param);
        return new EmbeddingInput(text, null);
    }

    private static EmbeddingInput FromObject(JsonElement item, string what, string param)
    {
        var fields = item.EnumerateObject().ToList();
        if (fields.Count != 1 || fields[0].Name is not ("text" or "image") || fields[0].Value.ValueKind != JsonValueKind.String)
            throw ApiError.BadRequest("invalid_field", $"{what} must be {{\"text\": \"...\"}} or {{\"image\": \"data:image/...\"}}", param);
        string value = Read(fields[0].Value, what, param);
        if (fields[0].Name == "image") return new EmbeddingInput(null, CheckImageUrl(value, what, param));
        if (string.IsNullOrWhiteSpace(value)) throw ApiError.BadRequest("invalid_field", $"{what} is empty", param);
        return new EmbeddingInput(value, null);
    }

    private static string Read(JsonElement value, string what, string param)
    {
        try { return value.GetString()!; }
        catch (InvalidOperationException) { throw ApiError.BadRequest("invalid_json", $"{what} is not valid UTF-8", param); }
    }
}
