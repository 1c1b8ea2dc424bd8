using System.Buffers.Binary;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OpenVision.Text;
using OpenVision.Vision;

namespace OpenVision.Serving.OpenAi;

/// <summary>The OpenAI-compatible routes: <c>POST /v1/embeddings</c>, <c>GET /v1/models</c> and
/// <c>GET /v1/models/{id}</c>. Texts and images (data: URLs) share one embedding space; every row is L2-normalized,
/// as <c>openvision embed</c> writes them. Errors are <see cref="ApiError"/>s in OpenAI's shape.</summary>
internal sealed class OpenAiEndpoints
{
    private static readonly string[] EmbeddingFields = ["model", "input", "encoding_format", "dimensions", "user", "modality"];

    private readonly OpenVisionEncoder encoder;
    private readonly OpenVisionEndpointOptions options;
    private readonly ModelBatchers model;
    private readonly long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public OpenAiEndpoints(OpenVisionEncoder encoder, OpenVisionEndpointOptions options, ModelBatchers model)
    {
        this.encoder = encoder;
        this.options = options;
        this.model = model;
    }

    /// <summary>The id clients name the model by: the served config's name.</summary>
    public string ModelId => encoder.Config.Name;

    public void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/v1/embeddings", Embeddings);
        group.MapRead("/v1/models", () => Results.Json(new ModelList([Card()]), OpenAiJson.Options));
        group.MapRead("/v1/models/{**id}", (string id) =>
        {
            CheckModel(id, "id");
            return Results.Json(Card(), OpenAiJson.Options);
        });
    }

    /// <summary>Normalized embeddings of <paramref name="inputs"/>, in order, through the shared batchers.</summary>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<EmbeddingInput> inputs, string param, CancellationToken cancellationToken)
    {
        var imageRows = inputs.Select((input, i) => (input, i)).Where(x => x.input.IsImage).ToList();
        if (imageRows.Count > options.MaxImagesPerRequest)
            throw ApiError.BadRequest("too_many_items", $"at most {options.MaxImagesPerRequest} images per request, got {imageRows.Count}", param);
        var decoded = await model.Intake.PrepareAsync(imageRows.Count,
            k => EmbeddingInput.Decode(imageRows[k].input.ImageDataUrl!, param == "input" ? $"input {imageRows[k].i}" : $"'{param}'", param, model.Intake.Decoder), cancellationToken);
        var textRows = inputs.Where(input => !input.IsImage).Select(input => input.Text!).ToList();
        var textTask = model.Texts.RunAsync(textRows, cancellationToken);
        var imageTask = model.Images.RunAsync(decoded, cancellationToken);
        var (textVectors, imageVectors) = (ModelBatchers.Normalize(await textTask, true), ModelBatchers.Normalize(await imageTask, true));
        var rows = new float[inputs.Count][];
        int t = 0, m = 0;
        for (int i = 0; i < inputs.Count; i++) rows[i] = inputs[i].IsImage ? imageVectors[m++] : textVectors[t++];
        return rows;
    }

    /// <summary>Refuses a model id other than the served one with OpenAI's 404 <c>model_not_found</c>.</summary>
    public string CheckModel(string? id, string param)
    {
        if (id is null) throw ApiError.BadRequest("missing_field", "'model' is missing", param);
        if (id != ModelId)
            throw new ApiError(404, "model_not_found", $"the model '{ApiError.Quote(id)}' does not exist; this server serves '{ModelId}'", param);
        return id;
    }

    private ModelCard Card() => new(ModelId, created);

    private async Task<IResult> Embeddings(HttpRequest request)
    {
        IReadOnlyList<EmbeddingInput> inputs;
        bool base64;
        using (var body = await RequestJson.ReadAsync(request, EmbeddingFields, formAccepted: false))
        {
            CheckModel(body.String("model"), "model");
            // The native width is a no-op, which clients that always send dimensions rely on; a shorter one would
            // need a model trained to be cut (Matryoshka), which OpenVision's are not.
            if (body.Element("dimensions") is not null && body.Int("dimensions") != encoder.Config.EmbedDim)
                throw ApiError.BadRequest("unsupported_parameter",
                    $"dimensions other than {encoder.Config.EmbedDim} are not supported: OpenVision embeddings have {encoder.Config.EmbedDim} dimensions and are not trained to be shortened", "dimensions");
            base64 = body.String("encoding_format") switch
            {
                null or "float" => false,
                "base64" => true,
                var other => throw ApiError.BadRequest("invalid_field", $"'encoding_format' must be \"float\" or \"base64\", not \"{ApiError.Quote(other)}\"", "encoding_format"),
            };
            body.String("user");                                     // accepted for compatibility, not used
            inputs = EmbeddingInput.Read(body.Element("input"), body.String("modality"), options.MaxTextsPerRequest);
        }
        var rows = await EmbedAsync(inputs, "input", request.HttpContext.RequestAborted);
        var data = rows.Select((row, i) => new EmbeddingItem(i, base64 ? Base64(row) : row)).ToList();
        int tokens = inputs.Sum(Tokens);
        return Results.Json(new EmbeddingList(data, ModelId, new EmbeddingUsage(tokens, tokens)), OpenAiJson.Options);
    }

    // Texts count their tokenizer tokens (start and end markers included, padding not); images count the patches
    // the vision tower sees, as servers of vision-language models count image tokens.
    private int Tokens(EmbeddingInput input)
    {
        if (input.IsImage)
        {
            int side = encoder.ImageSize / encoder.Config.VisionCfg.PatchSize;
            return side * side;
        }
        return encoder.Tokenizer.Encode(input.Text!).Count(id => id != OpenVisionTokenizer.PadId);
    }

    /// <summary>OpenAI's base64 form: the float32 values as little-endian bytes.</summary>
    internal static string Base64(float[] row)
    {
        var bytes = new byte[row.Length * sizeof(float)];
        for (int i = 0; i < row.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), row[i]);
        return Convert.ToBase64String(bytes);
    }
}
