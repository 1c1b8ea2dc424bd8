using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.DependencyInjection;
using OpenVision.Vision;
using OpenVision.ZeroShot;

namespace OpenVision.Serving;

/// <summary>The service's routes: parse and check the request, embed through the batchers, answer JSON. Every refusal
/// is an <see cref="ApiError"/>, which <see cref="RequestPipeline"/> turns into a JSON 4xx.</summary>
internal sealed class EmbeddingEndpoints
{
    // Answers are application/json, never pasted into HTML, so quotes and apostrophes in messages stay readable.
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] TextFields = ["texts", "normalize"];
    private static readonly string[] ImageFields = ["images", "normalize"];
    private static readonly string[] ClassifyFields = ["image", "images", "labels", "templates", "top"];
    private static readonly string[] ClassifyFormFields = ["labels", "templates", "top"];

    private readonly OpenVisionEncoder encoder;
    private readonly OpenVisionEndpointOptions options;
    private readonly ModelBatchers model;
    private readonly DynamicBatcher<string> texts;
    private readonly DynamicBatcher<float[]> images;

    public EmbeddingEndpoints(OpenVisionEncoder encoder, OpenVisionEndpointOptions options, RequestPipeline pipeline, ModelBatchers model)
    {
        this.encoder = encoder;
        this.options = options;
        this.model = model;
        Pipeline = pipeline;
        // Raw features from the shared batchers; handlers normalise per request, so requests with either setting share calls.
        texts = model.Texts;
        images = model.Images;
    }

    public RequestPipeline Pipeline { get; }

    public void Map(IEndpointRouteBuilder group)
    {
        group.MapRead("/", () => Results.Content(IndexPage.Html, "text/html; charset=utf-8")).WithMetadata(PublicEndpoint.Instance);
        group.MapRead("/health", () => Results.Json(new HealthResponse("ok", encoder.Config.Name, encoder.Backend.GetType().Name, encoder.Config.EmbedDim,
            encoder.ImageSize, options.DynamicBatching, texts.Calls, texts.Items, images.Calls, images.Items, Pipeline.ActiveRequests,
            options.ApiKey is not null), Json)).WithMetadata(PublicEndpoint.Instance);
        group.MapPost("/embed/text", EmbedText);
        group.MapPost("/embed/image", EmbedImage);
        group.MapPost("/classify", Classify);
    }

    /// <summary>Answers what no route matched: 405 (with Allow) for a known path, 404 listing the routes otherwise; both
    /// as JSON errors. The routes are read from the app's endpoints, so the list cannot miss one that is mapped.</summary>
    public static void MapNotFound(IEndpointRouteBuilder group) => group.MapFallback("{*path}", (HttpContext context) =>
    {
        string path = context.Request.Path.Value is { Length: > 1 } p ? p.TrimEnd('/') : "/";
        var routes = MappedRoutes(context.RequestServices.GetRequiredService<EndpointDataSource>());
        var allowed = routes.Where(r => r.Matches(path)).Select(r => r.Method).Distinct().ToList();
        if (allowed.Count == 0) throw new ApiError(404, "not_found", $"no route {ApiError.Quote(context.Request.Method, 10)} {ApiError.Quote(path)}; " +
            $"routes: {string.Join(", ", routes.GroupBy(r => r.Pattern).Select(g => $"{string.Join("|", g.Select(r => r.Method))} {g.Key}"))}");
        context.Response.Headers.Allow = string.Join(", ", allowed);
        throw new ApiError(405, "method_not_allowed", $"{path} takes {string.Join(" or ", allowed)}, not {ApiError.Quote(context.Request.Method, 10)}");
    });

    private sealed record MappedRoute(string Method, string Pattern, TemplateMatcher Matcher)
    {
        public bool Matches(string path) => Matcher.TryMatch(path, new RouteValueDictionary());
    }

    // Every endpoint with an HTTP method (the fallback has none), in the order they were mapped.
    private static List<MappedRoute> MappedRoutes(EndpointDataSource endpoints) =>
        endpoints.Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(method =>
            {
                string pattern = "/" + (e.RoutePattern.RawText ?? "").TrimStart('/');
                return new MappedRoute(method, pattern, new TemplateMatcher(TemplateParser.Parse(pattern.TrimStart('/')), new RouteValueDictionary()));
            }))
            .ToList();

    private async Task<IResult> EmbedText(HttpRequest request)
    {
        bool? normalize;
        IReadOnlyList<string> list;
        using (var body = await RequestJson.ReadAsync(request, TextFields, formAccepted: false))
        {
            list = Check(body.Strings("texts"), "texts", options.MaxTextsPerRequest);
            normalize = body.Bool("normalize");
        }
        if (list.Any(string.IsNullOrWhiteSpace)) throw ApiError.BadRequest("invalid_field", "texts must not be empty", "texts");
        var rows = await texts.RunAsync(list, request.HttpContext.RequestAborted);
        return Results.Json(new EmbeddingResponse(encoder.Config.Name, ModelBatchers.Normalize(rows, normalize ?? true)), Json);
    }

    private async Task<IResult> EmbedImage(HttpRequest request)
    {
        bool normalize = true;
        IReadOnlyList<float[]> decoded;
        if (request.HasFormContentType)
            decoded = await (await RequestForm.ReadAsync(request, options, [])).ImagesAsync(options, model.Intake, request.HttpContext.RequestAborted);
        else
        {
            using var body = await RequestJson.ReadAsync(request, ImageFields, formAccepted: true);
            normalize = body.Bool("normalize") ?? true;
            decoded = await DecodeAll(Check(body.Strings("images"), "images", options.MaxImagesPerRequest), request.HttpContext.RequestAborted);
        }
        var rows = await images.RunAsync(decoded, request.HttpContext.RequestAborted);
        return Results.Json(new EmbeddingResponse(encoder.Config.Name, ModelBatchers.Normalize(rows, normalize)), Json);
    }

    private async Task<IResult> Classify(HttpRequest request)
    {
        IReadOnlyList<string> labels;
        IReadOnlyList<string>? templates;
        int? top;
        RequestForm? form = null;
        IReadOnlyList<string>? encoded = null;
        if (request.HasFormContentType)
        {
            form = await RequestForm.ReadAsync(request, options, ClassifyFormFields);
            labels = Check(form.Values("labels"), "labels", options.MaxTextsPerRequest);
            templates = form.Values("templates");
            top = form.Int("top");
        }
        else
        {
            using var body = await RequestJson.ReadAsync(request, ClassifyFields, formAccepted: true);
            labels = Check(body.Strings("labels"), "labels", options.MaxTextsPerRequest);
            templates = body.Strings("templates");
            top = body.Int("top");
            encoded = Check(body.Strings("images") ?? (body.String("image") is { } one ? [one] : null), "image or images", options.MaxImagesPerRequest);
        }
        // The cheap checks of the text fields come before any image is decoded.
        if (labels.Any(string.IsNullOrWhiteSpace)) throw ApiError.BadRequest("invalid_field", "labels must not be empty", "labels");
        if (templates is not { Count: > 0 }) templates = PromptSets.Identity;
        if (templates.FirstOrDefault(t => !t.Contains("{}", StringComparison.Ordinal)) is { } bad)
            throw ApiError.BadRequest("invalid_field", $"template '{ApiError.Quote(bad)}' has no {{}} placeholder for the label", "templates");
        if ((long)labels.Count * templates.Count > options.MaxTextsPerRequest)
            throw ApiError.BadRequest("too_many_items", $"labels × templates is over {options.MaxTextsPerRequest}");
        if (top is < 1) throw ApiError.BadRequest("invalid_field", "top must be at least 1", "top");
        var decoded = form is not null ? await form.ImagesAsync(options, model.Intake, request.HttpContext.RequestAborted)
            : await DecodeAll(encoded!, request.HttpContext.RequestAborted);

        // The prompts in ZeroShotClassifier's order (label-major), embedded through the shared text batcher.
        var prompts = labels.SelectMany(l => templates.Select(t => PromptSets.Fill(t, l))).ToList();
        var promptRows = ModelBatchers.Normalize(await texts.RunAsync(prompts, request.HttpContext.RequestAborted), true);
        var imageRows = await images.RunAsync(decoded, request.HttpContext.RequestAborted);
        int cursor = 0;
        using var classifier = ZeroShotClassifier.Create(batch =>
        {
            var rows = promptRows[cursor..(cursor + batch.Count)];
            cursor += batch.Count;
            return TorchSharp.torch.tensor(rows.SelectMany(r => r).ToArray(), [batch.Count, rows[0].Length]);
        }, encoder.LogitScale, labels, templates);
        using var features = TorchSharp.torch.tensor(imageRows.SelectMany(r => r).ToArray(), [imageRows.Length, imageRows[0].Length]);
        var results = classifier.Top(features, Math.Min(top ?? labels.Count, labels.Count))
            .Select(row => (IReadOnlyList<LabelScore>)row.Select(s => new LabelScore(s.Label, s.Probability)).ToList()).ToList();
        return Results.Json(new ClassifyResponse(encoder.Config.Name, results), Json);
    }

    // Model-size pixels of base64 images (plain or data: URLs), decoded one at a time through the intake.
    private Task<float[][]> DecodeAll(IReadOnlyList<string> encoded, CancellationToken cancellationToken) =>
        model.Intake.PrepareAsync(encoded.Count, i =>
        {
            string text = encoded[i];
            int comma = text.StartsWith("data:", StringComparison.Ordinal) ? text.IndexOf(',') : -1;   // data:image/png;base64,...
            byte[] bytes;
            try { bytes = Convert.FromBase64String(text[(comma + 1)..]); }
            catch (FormatException) { throw ApiError.BadRequest("invalid_image", $"image {i} is not valid base64", "images"); }
            return ImageDecoder.Decode(bytes, $"image {i}", model.Intake.Decoder);
        }, cancellationToken);

    private static IReadOnlyList<T> Check<T>(IReadOnlyList<T>? items, string name, int max)
    {
        if (items is null || items.Count == 0) throw ApiError.BadRequest("missing_field", $"'{name}' is missing or empty", name);
        if (items.Count > max) throw ApiError.BadRequest("too_many_items", $"at most {max} {name} per request, got {items.Count}", name);
        return items;
    }
}
