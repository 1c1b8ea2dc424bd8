using System.Globalization;
using System.Text;

namespace OpenVision.Text;

/// <summary>HTML character references decoded the way Python's <c>html.unescape</c> and ftfy's <c>unescape_html</c> do.</summary>
/// <remarks>
/// .NET's <c>WebUtility.HtmlDecode</c> knows only the 253 HTML 4 names and requires the semicolon; Python knows the
/// 2,231 HTML5 names, accepts the legacy ones without a semicolon ("&amp;eacute" → "é", longest prefix wins) and maps
/// numeric references the HTML5 way (C1 numbers as Windows-1252, surrogates and out-of-range to U+FFFD, other
/// invalid code points to nothing). The name table is the embedded <c>Assets/html_entities.txt</c>.
/// </remarks>
internal static class HtmlEntities
{
    private static readonly Lazy<(Dictionary<string, string> Html5, Dictionary<string, string> Ftfy)> Tables = new(Load);

    // Python html._invalid_charrefs: the numbers HTML5 maps to something other than their code point.
    private static readonly Dictionary<int, string> InvalidCharRefs = BuildInvalidCharRefs();

    /// <summary>Python 3 <c>html.unescape</c>: regex <c>&amp;(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f &lt;&amp;#;]{1,32};?)</c>.</summary>
    public static string PythonUnescape(string text)
    {
        int amp = text.IndexOf('&');
        if (amp < 0) return text;
        var html5 = Tables.Value.Html5;
        var sb = new StringBuilder(text.Length);
        int pos = 0;
        for (; amp >= 0; amp = text.IndexOf('&', pos))
        {
            sb.Append(text, pos, amp - pos);
            int i = amp + 1;
            if (i < text.Length && text[i] == '#')
            {
                bool hex = i + 1 < text.Length && (text[i + 1] | 0x20) == 'x';
                int digitsStart = hex ? i + 2 : i + 1, end = digitsStart;
                while (end < text.Length && (hex ? char.IsAsciiHexDigit(text[end]) : char.IsAsciiDigit(text[end]))) end++;
                if (end == digitsStart) { sb.Append('&'); pos = i; continue; }   // "&#" or "&#x" without digits: literal
                sb.Append(NumericReference(text.AsSpan(digitsStart, end - digitsStart), hex));
                pos = end < text.Length && text[end] == ';' ? end + 1 : end;
                continue;
            }
            // Named: up to 32 code points other than \t \n \f space < & # ;, then an optional ';'.
            int nameEnd = i, count = 0;
            while (nameEnd < text.Length && count < 32 && text[nameEnd] is not ('\t' or '\n' or '\f' or ' ' or '<' or '&' or '#' or ';'))
            {
                nameEnd += char.IsHighSurrogate(text[nameEnd]) && nameEnd + 1 < text.Length && char.IsLowSurrogate(text[nameEnd + 1]) ? 2 : 1;
                count++;
            }
            if (nameEnd == i) { sb.Append('&'); pos = i; continue; }
            if (nameEnd < text.Length && text[nameEnd] == ';') nameEnd++;
            string name = text[i..nameEnd];
            pos = nameEnd;
            if (html5.TryGetValue(name, out string? value)) { sb.Append(value); continue; }
            // The longest prefix of at least two characters that is a name (only the legacy ones lack ';').
            int x = name.Length - 1;
            for (; x > 1; x--)
                if (html5.TryGetValue(name[..x], out value)) { sb.Append(value).Append(name, x, name.Length - x); break; }
            if (x <= 1) sb.Append('&').Append(name);
        }
        sb.Append(text, pos, text.Length - pos);
        return sb.ToString();
    }

    /// <summary>ftfy 6 <c>unescape_html</c>: only <c>&amp;#?[0-9A-Za-z]{1,24};</c>, HTML5 names with ';', a set of
    /// upper-cased names ("&amp;EACUTE;" → "É"), and numeric references that html.unescape consumes entirely.</summary>
    public static string FtfyUnescape(string text)
    {
        int amp = text.IndexOf('&');
        if (amp < 0) return text;
        var (html5, ftfy) = Tables.Value;
        var sb = new StringBuilder(text.Length);
        int pos = 0;
        for (; amp >= 0; amp = text.IndexOf('&', pos))
        {
            sb.Append(text, pos, amp - pos);
            int start = amp + 1 < text.Length && text[amp + 1] == '#' ? amp + 2 : amp + 1, end = start;
            while (end < text.Length && end - start < 24 && char.IsAsciiLetterOrDigit(text[end])) end++;
            if (end == start || end >= text.Length || text[end] != ';') { sb.Append('&'); pos = amp + 1; continue; }
            string match = text[amp..(end + 1)];
            pos = end + 1;
            if (start == amp + 1)
            {
                string name = match[1..];
                sb.Append(html5.TryGetValue(name, out string? v) || ftfy.TryGetValue(name, out v) ? v : match);
            }
            else
            {
                string unescaped = PythonUnescape(match);
                sb.Append(unescaped.Contains(';') ? match : unescaped);   // only whole references count
            }
        }
        sb.Append(text, pos, text.Length - pos);
        return sb.ToString();
    }

    private static string NumericReference(ReadOnlySpan<char> digits, bool hex)
    {
        // Python ints are unbounded; saturating above 0x10FFFF gives the same answer (U+FFFD).
        long number = 0;
        foreach (char c in digits)
        {
            int digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
            number = number * (hex ? 16 : 10) + digit;
            if (number > 0x10FFFF) { number = 0x110000; break; }
        }
        if (InvalidCharRefs.TryGetValue((int)number, out string? mapped)) return mapped;
        if (number is >= 0xD800 and <= 0xDFFF or > 0x10FFFF) return "\uFFFD";
        if (IsInvalidCodePoint((int)number)) return "";
        return char.ConvertFromUtf32((int)number);
    }

    // Python html._invalid_codepoints (0x80-0x9F never get here: they are all in InvalidCharRefs).
    private static bool IsInvalidCodePoint(int cp) =>
        cp is >= 0x1 and <= 0x8 or 0xB or >= 0xE and <= 0x1F or >= 0x7F and <= 0x9F or >= 0xFDD0 and <= 0xFDEF
        || (cp & 0xFFFE) == 0xFFFE;

    private static Dictionary<int, string> BuildInvalidCharRefs()
    {
        var map = new Dictionary<int, string> { [0x00] = "\uFFFD", [0x0D] = "\r" };
        // Windows-1252 for 0x80-0x9F; 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined there and map to themselves.
        const string cp1252 = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ";
        for (int i = 0; i < 32; i++) map[0x80 + i] = cp1252[i].ToString();
        return map;
    }

    private static (Dictionary<string, string>, Dictionary<string, string>) Load()
    {
        var html5 = new Dictionary<string, string>(2300, StringComparer.Ordinal);
        var ftfy = new Dictionary<string, string>(1400, StringComparer.Ordinal);
        using var stream = typeof(HtmlEntities).Assembly.GetManifestResourceStream("OpenVision.Text.Assets.html_entities.txt")
            ?? throw new InvalidOperationException("embedded resource OpenVision.Text.Assets.html_entities.txt is missing from the OpenVision assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            string[] fields = line.Split('\t');
            var value = new StringBuilder();
            foreach (string hex in fields[2].Split(' '))
                value.Append(char.ConvertFromUtf32(int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            (fields[0] == "h" ? html5 : ftfy)[fields[1]] = value.ToString();
        }
        return (html5, ftfy);
    }
}
