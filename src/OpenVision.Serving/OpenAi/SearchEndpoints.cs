using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OpenVision.Search;

namespace OpenVision.Serving.OpenAi;

/// <summary>Search over the loaded <see cref="ImageIndex"/>: <c>POST /v1/search</c> (a text or an image data: URL
/// query), <c>GET /v1/search</c> (what the index holds) and <c>GET /v1/search/items/{row}/image</c> (an indexed image
/// file, for thumbnails). Only files the index lists by row are served, never a path a client names.</summary>
internal sealed class SearchEndpoints(ImageIndex? index, OpenAiEndpoints embeddings)
{
    private const int MaxTopK = 1000;
    private static readonly string[] SearchFields = ["query", "top_k", "model"];

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".webp"] = "image/webp",
        [".gif"] = "image/gif", [".bmp"] = "image/bmp",
    };

    public void Map(IEndpointRouteBuilder group)
    {
        group.MapRead("/v1/search", () => Results.Json(Info(Loaded()), OpenAiJson.Options));
        group.MapPost("/v1/search", Search);
        group.MapRead("/v1/search/items/{row}/image", Image);
    }

    private ImageIndex Loaded() => index ?? throw new ApiError(404, "no_index_loaded",
        "no index is loaded: start the server with --index IDX (build one with `openvision index build`)");

    // The served model's id, as /v1/models names it: the manifest's name is whatever --model the index was built
    // with, often a path on the server. The index was checked against the served model at startup.
    private SearchIndexInfo Info(ImageIndex loaded) => new(loaded.Count, loaded.Manifest.Dimensions, embeddings.ModelId);

    private async Task<IResult> Search(HttpRequest request)
    {
        var loaded = Loaded();
        EmbeddingInput query;
        int topK;
        using (var body = await RequestJson.ReadAsync(request, SearchFields, formAccepted: false))
        {
            if (body.String("model") is { } model) embeddings.CheckModel(model, "model");
            topK = body.Int("top_k") ?? 10;
            if (topK is < 1 or > MaxTopK) throw ApiError.BadRequest("invalid_field", $"'top_k' must be 1 to {MaxTopK}, not {topK}", "top_k");
            if (body.Element("query") is not { } element) throw ApiError.BadRequest("missing_field", "'query' is missing", "query");
            if (element.ValueKind is not (System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Object))
                throw ApiError.BadRequest("invalid_field", "'query' must be a text or {\"image\": \"data:image/...\"}", "query");
            query = EmbeddingInput.ReadOne(element, "text", "query");
        }
        var vector = (await embeddings.EmbedAsync([query], "query", request.HttpContext.RequestAborted))[0];
        var hits = loaded.Search(vector, (int)Math.Min(topK, Math.Max(1, loaded.Count)));
        var data = hits.Select((hit, i) => new SearchMatch(i + 1, hit.Score, hit.Item.Key, hit.Item.Caption, hit.Row)).ToList();
        return Results.Json(new SearchList(data, embeddings.ModelId, Info(loaded)), OpenAiJson.Options);
    }

    private IResult Image(string row)
    {
        var loaded = Loaded();
        if (!long.TryParse(row, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long number) || number >= loaded.Count)
            throw new ApiError(404, "item_not_found", $"no item {ApiError.Quote(row, 20)}: the index has rows 0 to {loaded.Count - 1}");
        string key = loaded.Items[(int)number].Key;
        if (!ContentTypes.TryGetValue(Path.GetExtension(key), out var contentType))
            throw new ApiError(404, "no_image_file", $"item {number} is not an image file the server can send (its key is not a .png, .jpg, .webp, .gif or .bmp path)");
        // Keys are the paths the index was built from; relative ones are relative to the server's working folder.
        string path = Path.GetFullPath(key);
        if (!File.Exists(path)) throw new ApiError(404, "image_file_missing", $"item {number}'s image file is no longer on the server");
        return Results.File(path, contentType);
    }
}
