using System.Text;

namespace OpenVision.Text;

/// <summary>The text clean the OpenVision tokenizer runs before BERT normalization (open_clip <c>_clean_whitespace</c>).</summary>
/// <remarks>
/// Python: <c>" ".join(html.unescape(html.unescape(ftfy.fix_text(t))).strip().split())</c>. The ftfy part is a
/// subset: NFC, HTML entities, C1 controls, Latin ligatures, width forms, curly quotes, line breaks, terminal escapes
/// and control characters, but no mojibake repair; the HTML part follows Python's <c>html.unescape</c> exactly, including
/// HTML5 names, names without a semicolon and numeric references; whitespace is Python's <c>str.split()</c> set.
/// </remarks>
public static class TextCleaner
{
    /// <summary>Returns <paramref name="text"/> fixed, HTML-unescaped twice, with whitespace runs collapsed to one space and no
    /// leading or trailing whitespace.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return CleanFixed(TextFixer.Fix(text));
    }

    // The steps after ftfy: html.unescape twice, then the whitespace collapse.
    internal static string CleanFixed(string fixedText) =>
        CollapseWhitespace(HtmlEntities.PythonUnescape(HtmlEntities.PythonUnescape(fixedText)));

    // " ".join(text.split()): split() without arguments also drops empty pieces, which strips both ends.
    private static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text)
        {
            if (IsPythonWhitespace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }
            if (pendingSpace) sb.Append(' ');
            pendingSpace = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    // Python str.isspace(): bidirectional class WS, B or S, or category Zs. Unlike char.IsWhiteSpace this includes
    // the information separators U+001C-U+001F. Every such character is in the BMP.
    private static bool IsPythonWhitespace(char c) => c switch
    {
        ' ' or (>= '\t' and <= '\r') or (>= '\u001C' and <= '\u001F') or '\u0085' or '\u00A0' or '\u1680' => true,
        (>= '\u2000' and <= '\u200A') or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u3000' => true,
        _ => false,
    };
}
