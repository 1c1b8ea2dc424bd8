using System.Text;

namespace OpenVision.ZeroShot;

/// <summary>Built-in class names and prompt templates, and the text canonicalisation of OpenVision's
/// (big_vision's) zero-shot evaluator.</summary>
public static class PromptSets
{
    private static readonly Lazy<IReadOnlyList<string>> ImageNet = new(() => ReadResource("imagenet_classnames.txt"));
    private static readonly Lazy<IReadOnlyList<string>> ClipPaper = new(() => ReadResource("clip_paper_templates.txt"));

    /// <summary>The 1,000 CLIP ImageNet class names, in label order.</summary>
    public static IReadOnlyList<string> ImageNetClassNames => ImageNet.Value;

    /// <summary>The 80 CLIP-paper templates plus <c>"{}"</c> (81), as OpenVision's evaluator uses them; <c>{}</c> marks the class name.</summary>
    public static IReadOnlyList<string> ClipPaperTemplates => ClipPaper.Value;

    /// <summary>A template set that uses the class name as the whole prompt.</summary>
    public static IReadOnlyList<string> Identity { get; } = ["{}"];

    /// <summary>big_vision <c>_canonicalize_text</c>: '_' → space, ASCII punctuation removed except the
    /// <paramref name="keepExact"/> string, lowercased, whitespace collapsed, trimmed.</summary>
    public static string Canonicalize(string text, string? keepExact = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Replace('_', ' ');
        text = keepExact is null
            ? RemovePunctuation(text)
            : string.Join(keepExact, text.Split(keepExact).Select(RemovePunctuation));
        text = text.ToLowerInvariant();
        return string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Fills a template: every <c>{}</c> becomes the class name (Python's str.format with one argument).</summary>
    public static string Fill(string template, string className) =>
        template.Contains("{}", StringComparison.Ordinal) ? template.Replace("{}", className, StringComparison.Ordinal)
            : throw new ArgumentException($"template '{template}' has no {{}} placeholder");

    /// <summary>Reads a list file: one entry per line, blank lines ignored, within <see cref="IO.TextFileLimits.Default"/>; errors name the file.</summary>
    public static IReadOnlyList<string> ReadList(string path)
    {
        var lines = IO.InputFile.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0) throw new InvalidDataException($"{path}: the file has no entries");
        return lines;
    }

    // Python's string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
    private static string RemovePunctuation(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
            if (!(c < 128 && char.IsPunctuation(c) || c is '$' or '+' or '<' or '=' or '>' or '^' or '`' or '|' or '~')) builder.Append(c);
        return builder.ToString();
    }

    private static IReadOnlyList<string> ReadResource(string name)
    {
        using var stream = typeof(PromptSets).Assembly.GetManifestResourceStream("OpenVision.ZeroShot." + name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
    }
}
