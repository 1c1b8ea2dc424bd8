namespace OpenVision.Serving;

/// <summary>The page at <c>/</c>: drop an image, type labels, see probabilities (it calls <c>POST /classify</c>).</summary>
internal static class IndexPage
{
    public static readonly string Html = Load();

    private static string Load()
    {
        using var stream = typeof(IndexPage).Assembly.GetManifestResourceStream("OpenVision.Serving.index.html")
            ?? throw new InvalidOperationException("the index page is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
