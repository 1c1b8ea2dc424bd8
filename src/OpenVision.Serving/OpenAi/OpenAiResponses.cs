using System.Text.Json;

namespace OpenVision.Serving.OpenAi;

/// <summary>Serializer settings of the OpenAI-compatible routes: OpenAI's snake_case field names.</summary>
internal static class OpenAiJson
{
    public static readonly JsonSerializerOptions Options = new(EmbeddingEndpoints.Json) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

/// <summary><c>POST /v1/embeddings</c> answer, as OpenAI's.</summary>
internal sealed record EmbeddingList(IReadOnlyList<EmbeddingItem> Data, string Model, EmbeddingUsage Usage)
{
    public string Object => "list";
}

/// <summary>One embedding: a float array, or a base64 string of little-endian float32 bytes.</summary>
internal sealed record EmbeddingItem(int Index, object Embedding)
{
    public string Object => "embedding";
}

/// <summary>Tokens the request used (see docs/openai-api.md for how images count).</summary>
internal sealed record EmbeddingUsage(int PromptTokens, int TotalTokens);

/// <summary><c>GET /v1/models</c> answer.</summary>
internal sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}

/// <summary>One served model, as OpenAI describes models.</summary>
internal sealed record ModelCard(string Id, long Created)
{
    public string Object => "model";

    public string OwnedBy => "openvision";
}

/// <summary><c>POST /v1/search</c> answer.</summary>
internal sealed record SearchList(IReadOnlyList<SearchMatch> Data, string Model, SearchIndexInfo Index)
{
    public string Object => "list";
}

/// <summary>One match: its rank (from 1), cosine similarity, the item's key and caption, and its row in the index.</summary>
internal sealed record SearchMatch(int Rank, float Score, string Key, string? Caption, long Row);

/// <summary>What the loaded index holds.</summary>
internal sealed record SearchIndexInfo(long Count, int Dimensions, string Model);
