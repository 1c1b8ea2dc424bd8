using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OpenVision.Search;

namespace OpenVision.Serving.OpenAi;

/// <summary>Adds the OpenAI-compatible and search routes to the group <see cref="OpenVisionEndpointRouteBuilderExtensions.MapOpenVision"/>
/// builds, and the page's search script.</summary>
internal static class OpenAiRoutes
{
    private static readonly string SearchScript = Asset("OpenVision.Serving.search.js");

    /// <summary>Maps the routes on <paramref name="group"/>, embedding through <paramref name="model"/> (the batchers the
    /// other routes share). Refuses (at startup) an index built with another model.</summary>
    public static OpenAiEndpoints Map(IEndpointRouteBuilder group, OpenVisionEncoder encoder, OpenVisionEndpointOptions options, ModelBatchers model)
    {
        if (options.SearchIndex is { } index) EnsureCompatible(index, encoder);
        var embeddings = new OpenAiEndpoints(encoder, options, model);
        embeddings.Map(group);
        new SearchEndpoints(options.SearchIndex, embeddings).Map(group);
        group.MapRead("/search.js", () => Results.Text(SearchScript, "text/javascript; charset=utf-8")).WithMetadata(PublicEndpoint.Instance);
        return embeddings;
    }

    private static void EnsureCompatible(ImageIndex index, OpenVisionEncoder encoder)
    {
        if (index.Manifest.Dimensions != encoder.Config.EmbedDim)
            throw new IndexModelMismatchException(index.Folder,
                $"the index holds {index.Manifest.Dimensions}-dimensional vectors, the served model '{encoder.Config.Name}' makes {encoder.Config.EmbedDim}");
        // The fingerprint: config hash, input size and the probe image's embedding (any backend computes it).
        index.EnsureCompatible(ImageIndexBuilder.Fingerprint(encoder, encoder.Config.Name));
    }

    private static string Asset(string name)
    {
        using var stream = typeof(OpenAiRoutes).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
