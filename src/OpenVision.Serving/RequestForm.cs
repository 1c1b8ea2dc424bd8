using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using OpenVision.Vision;

namespace OpenVision.Serving;

/// <summary>A multipart form body: its text fields (only those a route takes) and its image files, decoded.</summary>
internal sealed class RequestForm
{
    private readonly IFormCollection form;

    private RequestForm(IFormCollection form) => this.form = form;

    /// <summary>Reads the form, refusing fields not in <paramref name="known"/>; a body cut short or without its
    /// boundary is a 400 naming the problem, never a server fault.</summary>
    public static async Task<RequestForm> ReadAsync(HttpRequest request, OpenVisionEndpointOptions options, IReadOnlyCollection<string> known)
    {
        var limits = new FormOptions
        {
            ValueCountLimit = options.MaxTextsPerRequest + options.MaxImagesPerRequest + known.Count,
            MultipartBodyLengthLimit = options.MaxRequestBytes,
            ValueLengthLimit = (int)Math.Min(int.MaxValue, options.MaxRequestBytes),
        };
        IFormCollection form;
        try { form = await request.ReadFormAsync(limits, request.HttpContext.RequestAborted).ConfigureAwait(false); }
        catch (InvalidDataException e) { throw ApiError.BadRequest("invalid_multipart", $"the multipart form cannot be read: {e.Message.TrimEnd('.')}"); }
        catch (IOException) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            throw ApiError.BadRequest("invalid_multipart", "the multipart form ends before its closing boundary");
        }
        foreach (var key in form.Keys)
            if (!known.Contains(key))
                throw ApiError.BadRequest("unknown_field", $"unknown form field '{ApiError.Quote(key)}' (this route takes {string.Join(", ", known)} and image files)", key);
        return new RequestForm(form);
    }

    /// <summary>Every value of the text field <paramref name="name"/>, in order.</summary>
    public IReadOnlyList<string> Values(string name) => form[name].Select(v => v ?? "").ToList();

    /// <summary>The single value of <paramref name="name"/> as a whole number, or null when absent.</summary>
    public int? Int(string name)
    {
        var values = form[name];
        if (values.Count == 0) return null;
        if (values.Count > 1 || !int.TryParse(values[0], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n))
            throw ApiError.BadRequest("invalid_field", $"'{name}' must be one whole number", name);
        return n;
    }

    /// <summary>Every uploaded file as model-size pixels, in order, decoded one at a time through
    /// <paramref name="intake"/>; errors name the file as the client called it.</summary>
    public async Task<IReadOnlyList<float[]>> ImagesAsync(OpenVisionEndpointOptions options, ImageIntake intake, CancellationToken cancellationToken)
    {
        if (form.Files.Count == 0) throw ApiError.BadRequest("missing_field", "the form has no image files");
        if (form.Files.Count > options.MaxImagesPerRequest)
            throw ApiError.BadRequest("too_many_items", $"at most {options.MaxImagesPerRequest} images per request, got {form.Files.Count}");
        var result = new List<float[]>();
        foreach (var file in form.Files)
        {
            using var stream = new MemoryStream();
            await file.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            string name = string.IsNullOrEmpty(file.FileName) ? $"image {result.Count}" : ApiError.Quote(Path.GetFileName(file.FileName));
            result.Add(await intake.PrepareAsync(() => ImageDecoder.Decode(stream.GetBuffer().AsSpan(0, (int)stream.Length), name, intake.Decoder), cancellationToken)
                .ConfigureAwait(false));
        }
        return result;
    }
}
