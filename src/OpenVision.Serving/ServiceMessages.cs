namespace OpenVision.Serving;

/// <summary>Body of <c>POST /embed/text</c>.</summary>
/// <param name="Texts">Texts to embed.</param>
/// <param name="Normalize">L2-normalize the embeddings (default true).</param>
public sealed record TextRequest(IReadOnlyList<string>? Texts, bool? Normalize);

/// <summary>JSON body of <c>POST /embed/image</c>; multipart form uploads are accepted too.</summary>
/// <param name="Images">Base64-encoded image files (PNG, JPEG, WebP, GIF, BMP); a data: URL prefix is allowed.</param>
/// <param name="Normalize">L2-normalize the embeddings (default true).</param>
public sealed record ImageRequest(IReadOnlyList<string>? Images, bool? Normalize);

/// <summary>JSON body of <c>POST /classify</c>; multipart uploads with <c>labels</c> fields are accepted too.</summary>
/// <param name="Image">One base64-encoded image.</param>
/// <param name="Images">Several base64-encoded images.</param>
/// <param name="Labels">Class names.</param>
/// <param name="Templates">Prompt templates with <c>{}</c> for the label; none uses the label alone.</param>
/// <param name="Top">Classes returned per image (default: all).</param>
public sealed record ClassifyRequest(string? Image, IReadOnlyList<string>? Images, IReadOnlyList<string>? Labels, IReadOnlyList<string>? Templates, int? Top);

/// <summary>Embeddings answer.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Embeddings">One row per input, in order.</param>
public sealed record EmbeddingResponse(string Model, float[][] Embeddings);

/// <summary>One class and its probability.</summary>
/// <param name="Label">Class name.</param>
/// <param name="Probability">Softmax probability over the labels.</param>
public sealed record LabelScore(string Label, double Probability);

/// <summary>Classification answer.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Results">Per image, the classes by decreasing probability.</param>
public sealed record ClassifyResponse(string Model, IReadOnlyList<IReadOnlyList<LabelScore>> Results);

/// <summary>Body of every error answer (OpenAI's shape): <c>{"error": {"message", "type", "code", "param", "request_id"}}</c>.</summary>
/// <param name="Error">What went wrong.</param>
public sealed record ErrorResponse(ErrorDetail Error);

/// <summary>One error: a message for people and fields for programs.</summary>
/// <param name="Message">One line naming the field or part of the request at fault; never a .NET type, path or trace.</param>
/// <param name="Type"><c>invalid_request_error</c> for every 4xx, <c>server_error</c> for every 5xx.</param>
/// <param name="Code">Stable machine-readable reason, e.g. <c>invalid_json</c>, <c>too_many_items</c>, <c>invalid_api_key</c>.</param>
/// <param name="Param">The request field at fault, when there is one.</param>
/// <param name="RequestId">The request's id, also sent as the <c>X-Request-Id</c> header and written in the server's log.</param>
public sealed record ErrorDetail(string Message, string Type, string Code, string? Param,
    [property: System.Text.Json.Serialization.JsonPropertyName("request_id")] string RequestId);

/// <summary><c>GET /health</c> answer, with batching counters.</summary>
/// <param name="Status">"ok".</param>
/// <param name="Model">Model name.</param>
/// <param name="Backend">Encoder type.</param>
/// <param name="EmbedDim">Embedding width.</param>
/// <param name="ImageSize">Input resolution in pixels.</param>
/// <param name="DynamicBatching">Whether concurrent requests share model calls.</param>
/// <param name="TextCalls">Text model calls so far.</param>
/// <param name="TextItems">Texts embedded so far.</param>
/// <param name="ImageCalls">Image model calls so far.</param>
/// <param name="ImageItems">Images embedded so far.</param>
/// <param name="ActiveRequests">Requests being handled now (public routes not counted).</param>
/// <param name="AuthRequired">Whether the other routes need <c>Authorization: Bearer KEY</c>.</param>
public sealed record HealthResponse(string Status, string Model, string Backend, int EmbedDim, int ImageSize, bool DynamicBatching,
    long TextCalls, long TextItems, long ImageCalls, long ImageItems, long ActiveRequests, bool AuthRequired);
