using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenVision.Vision;
using OpenVision.ZeroShot;

namespace OpenVision.Serving;

/// <summary>The service's routes: parse and check the request, embed through the batchers, answer JSON; any bad input is a 4xx with a message.</summary>
internal sealed class EmbeddingEndpoints(OpenVisionEncoder encoder, ServeOptions options, DynamicBatcher<string> texts, DynamicBatcher<DecodedImage> images)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public void Map(WebApplication app)
    {
        app.MapGet("/", () => Results.Content(IndexPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/health", () => Results.Json(new HealthResponse("ok", encoder.Config.Name, encoder.Backend.GetType().Name, encoder.Config.EmbedDim,
            encoder.ImageSize, options.DynamicBatching, texts.Calls, texts.Items, images.Calls, images.Items), Json));
        app.MapPost("/embed/text", (HttpRequest request) => Guard(() => EmbedText(request)));
        app.MapPost("/embed/image", (HttpRequest request) => Guard(() => EmbedImage(request)));
        app.MapPost("/classify", (HttpRequest request) => Guard(() => Classify(request)));
    }

    private async Task<IResult> EmbedText(HttpRequest request)
    {
        var body = await Read<TextRequest>(request);
        var list = Check(body.Texts, "texts", options.MaxTextsPerRequest);
        if (list.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("texts must not be empty");
        var rows = await texts.RunAsync(list, request.HttpContext.RequestAborted);
        return Results.Json(new EmbeddingResponse(encoder.Config.Name, Normalize(rows, body.Normalize ?? true)), Json);
    }

    private async Task<IResult> EmbedImage(HttpRequest request)
    {
        bool normalize = true;
        IReadOnlyList<DecodedImage> decoded;
        if (request.HasFormContentType) decoded = await DecodeForm(request);
        else
        {
            var body = await Read<ImageRequest>(request);
            normalize = body.Normalize ?? true;
            decoded = DecodeAll(Check(body.Images, "images", options.MaxImagesPerRequest));
        }
        var rows = await images.RunAsync(decoded, request.HttpContext.RequestAborted);
        return Results.Json(new EmbeddingResponse(encoder.Config.Name, Normalize(rows, normalize)), Json);
    }

    private async Task<IResult> Classify(HttpRequest request)
    {
        IReadOnlyList<DecodedImage> decoded;
        IReadOnlyList<string> labels, templates;
        int? top;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
            labels = Check(form["labels"].Where(l => l is not null).Select(l => l!).ToList(), "labels", options.MaxTextsPerRequest);
            decoded = await DecodeForm(request);
            templates = form["templates"].Count > 0 ? form["templates"].Select(t => t!).ToList() : PromptSets.Identity;
            top = int.TryParse(form["top"], out int k) ? k : null;
        }
        else
        {
            var body = await Read<ClassifyRequest>(request);
            labels = Check(body.Labels, "labels", options.MaxTextsPerRequest);
            var encoded = body.Images ?? (body.Image is null ? null : [body.Image]);
            decoded = DecodeAll(Check(encoded, "image or images", options.MaxImagesPerRequest));
            templates = body.Templates is { Count: > 0 } t ? t : PromptSets.Identity;
            top = body.Top;
        }
        if (labels.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("labels must not be empty");
        if (labels.Count * templates.Count > options.MaxTextsPerRequest) throw new ArgumentException($"labels × templates is over {options.MaxTextsPerRequest}");
        if (top is < 1) throw new ArgumentException("top must be at least 1");

        // The prompts in ZeroShotClassifier's order (label-major), embedded through the shared text batcher.
        var prompts = labels.SelectMany(l => templates.Select(t => PromptSets.Fill(t, l))).ToList();
        var promptRows = Normalize(await texts.RunAsync(prompts, request.HttpContext.RequestAborted), true);
        var imageRows = await images.RunAsync(decoded, request.HttpContext.RequestAborted);
        int cursor = 0;
        using var classifier = ZeroShotClassifier.Create(batch =>
        {
            var rows = promptRows[cursor..(cursor + batch.Count)];
            cursor += batch.Count;
            return TorchSharp.torch.tensor(rows.SelectMany(r => r).ToArray(), [batch.Count, rows[0].Length]);
        }, encoder.LogitScale, labels, templates);
        using var features = TorchSharp.torch.tensor(imageRows.SelectMany(r => r).ToArray(), [imageRows.Length, imageRows[0].Length]);
        var results = classifier.Top(features, top ?? labels.Count)
            .Select(row => (IReadOnlyList<LabelScore>)row.Select(s => new LabelScore(s.Label, s.Probability)).ToList()).ToList();
        return Results.Json(new ClassifyResponse(encoder.Config.Name, results), Json);
    }

    private async Task<IReadOnlyList<DecodedImage>> DecodeForm(HttpRequest request)
    {
        var form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        if (form.Files.Count == 0) throw new ArgumentException("the form has no image files");
        if (form.Files.Count > options.MaxImagesPerRequest) throw new ArgumentException($"at most {options.MaxImagesPerRequest} images per request");
        var result = new List<DecodedImage>();
        foreach (var file in form.Files)
        {
            using var stream = new MemoryStream();
            await file.CopyToAsync(stream, request.HttpContext.RequestAborted);
            result.Add(ImageDecoder.Decode(stream.GetBuffer().AsSpan(0, (int)stream.Length), file.FileName, Decoder));
        }
        return result;
    }

    private IReadOnlyList<DecodedImage> DecodeAll(IReadOnlyList<string> encoded) => encoded.Select((text, i) =>
    {
        int comma = text.StartsWith("data:", StringComparison.Ordinal) ? text.IndexOf(',') : -1;   // data:image/png;base64,...
        byte[] bytes;
        try { bytes = Convert.FromBase64String(text[(comma + 1)..]); }
        catch (FormatException) { throw new ArgumentException($"image {i} is not valid base64"); }
        return ImageDecoder.Decode(bytes, $"image {i}", Decoder);
    }).ToList();

    private ImageDecoderOptions Decoder => new() { MaxPixels = options.MaxImagePixels };

    private static IReadOnlyList<T> Check<T>(IReadOnlyList<T>? items, string name, int max)
    {
        if (items is null || items.Count == 0) throw new ArgumentException($"'{name}' is missing or empty");
        if (items.Count > max) throw new ArgumentException($"at most {max} {name} per request, got {items.Count}");
        return items;
    }

    private static async Task<T> Read<T>(HttpRequest request)
    {
        if (request.HasJsonContentType() is false && request.ContentType is not null)
            throw new ArgumentException($"send JSON (application/json) or a multipart form, not {request.ContentType}");
        try { return await JsonSerializer.DeserializeAsync<T>(request.Body, Json, request.HttpContext.RequestAborted) ?? throw new ArgumentException("the body is empty"); }
        catch (JsonException e) { throw new ArgumentException($"invalid JSON: {e.Message}"); }
    }

    private static float[][] Normalize(float[][] rows, bool normalize)
    {
        if (!normalize) return rows;
        return rows.Select(row =>
        {
            double norm = Math.Sqrt(row.Sum(v => (double)v * v));
            float scale = (float)(1 / Math.Max(norm, 1e-12));
            return row.Select(v => v * scale).ToArray();
        }).ToArray();
    }

    // Request problems become 4xx answers with a message; anything else is a server fault and stays a 500.
    private static async Task<IResult> Guard(Func<Task<IResult>> handler)
    {
        try { return await handler(); }
        catch (BadHttpRequestException e) { return Results.Json(new ErrorResponse(e.Message), Json, statusCode: e.StatusCode); }
        catch (ImageDecodeException e) { return Results.Json(new ErrorResponse(e.Message), Json, statusCode: 400); }
        catch (ArgumentException e) { return Results.Json(new ErrorResponse(e.Message), Json, statusCode: 400); }
        catch (InvalidDataException e) { return Results.Json(new ErrorResponse(e.Message), Json, statusCode: 400); }
    }
}
