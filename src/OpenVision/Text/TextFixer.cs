using System.Text;

namespace OpenVision.Text;

/// <summary>The part of <c>ftfy.fix_text</c> (ftfy 6, default options) that the reference runs first in its clean.</summary>
/// <remarks>
/// Replicated, in ftfy's order and repeated until the text stops changing: HTML entities (ftfy's own rules, skipped
/// from the first line that contains '&lt;'), C1 controls read as Windows-1252, Latin ligatures, full-width and
/// half-width forms, curly quotes, line breaks, lone surrogates, ANSI terminal escapes, control characters, NFC.
/// Not replicated: <c>fix_encoding</c> (mojibake repair such as "cafÃ©" → "café", which needs ftfy's statistical
/// heuristics) and ftfy's split of lines longer than 1,000,000 characters.
/// </remarks>
internal static class TextFixer
{
    // Only typographic Latin ligatures. ftfy 6 also splits the Serbo-Croatian digraphs (Ǆ ǅ ǆ Ǉ … ǳ) and ŉ, but the
    // reference token ids were produced without that rule ("Ǌ" → [UNK], not "nj"), and matching them wins.
    private static readonly Dictionary<char, string> Ligatures = new()
    {
        ['Ĳ'] = "IJ", ['ĳ'] = "ij", ['ﬀ'] = "ff", ['ﬁ'] = "fi", ['ﬂ'] = "fl", ['ﬃ'] = "ffi", ['ﬄ'] = "ffl", ['ﬅ'] = "ſt", ['ﬆ'] = "st",
    };

    // ftfy WIDTH_MAP: U+3000 → space, and U+FF01-U+FFEF → their NFKC form where that differs.
    private static readonly Lazy<string?[]> WidthMap = new(() =>
    {
        var map = new string?[0xFFF0 - 0xFF01];
        for (int i = 0; i < map.Length; i++)
        {
            string c = ((char)(0xFF01 + i)).ToString();
            string folded = c.Normalize(NormalizationForm.FormKC);
            map[i] = folded == c ? null : folded;
        }
        return map;
    });

    /// <summary>Applies the replicated ftfy fixes to <paramref name="text"/>.</summary>
    public static string Fix(string text)
    {
        if (IsPlainAscii(text)) return text;
        // ftfy fixes line by line; once a line contains '<' the text is taken for HTML and entities stay.
        var sb = new StringBuilder(text.Length);
        bool unescapeHtml = true;
        for (int pos = 0; pos < text.Length;)
        {
            int newline = text.IndexOf('\n', pos);
            int end = newline < 0 ? text.Length : newline + 1;
            string segment = text[pos..end];
            if (segment.Contains('<')) unescapeHtml = false;
            sb.Append(FixSegment(segment, unescapeHtml));
            pos = end;
        }
        return sb.ToString();
    }

    /// <summary>Fixes a piece of one line (it may end with the line's '\n') whose line does (<paramref name="unescapeHtml"/>
    /// true) or does not decode entities; what <see cref="Fix"/> does to that piece when the piece is cut after ASCII
    /// whitespace or a <see cref="TextCuts"/> character (no fix reaches across such a character).</summary>
    public static string FixLinePart(string text, bool unescapeHtml) => IsPlainAscii(text) ? text : FixSegment(text, unescapeHtml);

    private static string FixSegment(string text, bool unescapeHtml)
    {
        // ftfy.fix_and_explain loops until a whole round changes nothing; the cap only guards against a pathological cycle.
        for (int round = 0; round < 64; round++)
        {
            string before = text;
            if (unescapeHtml) text = HtmlEntities.FtfyUnescape(text);
            text = MapChars(text);
            text = text.Replace("\r\n", "\n");
            text = RemoveTerminalEscapes(text);
            text = RemoveControlChars(text);
            text = UnicodeNormalizer.Normalize(text, NormalizationForm.FormC);
            if (text == before) break;
        }
        return text;
    }

    // fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks (single
    // characters) and fix_surrogates in one pass: each maps one character and none feeds another, except C1 →
    // curly quote → straight quote, which the ordering below keeps.
    private static string MapChars(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = null;
            if (c is >= '\u0080' and <= '\u009F') c = Windows1252(c);   // then maybe a quote or U+2026, mapped below
            if (Ligatures.TryGetValue(c, out string? ligature)) replacement = ligature;
            else if (c == '\u3000') replacement = " ";
            else if (c is >= '\uFF01' and <= '\uFFEF') replacement = WidthMap.Value[c - 0xFF01];
            else if (c is '\u02BC' or >= '\u2018' and <= '\u201B') replacement = "'";
            else if (c is >= '\u201C' and <= '\u201F') replacement = "\"";
            else if (c is '\r' && !(i + 1 < text.Length && text[i + 1] == '\n') || c is '\u2028' or '\u2029' or '\u0085') replacement = "\n";
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb?.Append(text, i, 2);   // a valid pair stays
                i++;
                continue;
            }
            else if (char.IsSurrogate(c)) replacement = "\uFFFD";
            if (replacement is null && c == text[i]) { sb?.Append(c); continue; }
            sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            sb.Append(replacement ?? c.ToString());
        }
        return sb?.ToString() ?? text;
    }

    // ftfy decodes C1 controls as "sloppy" Windows-1252: the five undefined bytes stay as they are.
    private static char Windows1252(char c) => "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ"[c - 0x80];

    // ftfy ANSI_RE: ESC '[' (digits | ';')* letter.
    private static string RemoveTerminalEscapes(string text)
    {
        int esc = text.IndexOf('\u001B');
        if (esc < 0) return text;
        var sb = new StringBuilder(text.Length);
        int pos = 0;
        for (; esc >= 0; esc = text.IndexOf('\u001B', esc + 1))
        {
            if (esc < pos || esc + 1 >= text.Length || text[esc + 1] != '[') continue;
            int j = esc + 2;
            while (j < text.Length && (text[j] == ';' || Rune.TryGetRuneAt(text, j, out var r) && Rune.IsDigit(r)))
                j += char.IsHighSurrogate(text[j]) ? 2 : 1;
            if (j < text.Length && char.IsAsciiLetter(text[j]))
            {
                sb.Append(text, pos, esc - pos);
                pos = j + 1;
            }
        }
        return pos == 0 ? text : sb.Append(text, pos, text.Length - pos).ToString();
    }

    // ftfy 6 CONTROL_CHARS: C0 controls except \t \n \f \r, DEL, deprecated format characters U+206A-U+206F, BOM
    // and U+FFF9-U+FFFC. (ftfy 5 also removed musical formatting and tag characters; 6 keeps them for emoji flags.)
    private static string RemoveControlChars(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];   // every removed character is in the BMP, so surrogates pass through untouched
            bool remove = c is < '\u0009' or '\u000B' or >= '\u000E' and < ' ' or '\u007F' or >= '\u206A' and <= '\u206F'
                or '\uFEFF' or >= '\uFFF9' and <= '\uFFFC';
            if (remove) sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            else sb?.Append(c);
        }
        return sb?.ToString() ?? text;
    }

    // Printable ASCII plus tab and newline without '&' is a fixed point of every fix above.
    private static bool IsPlainAscii(string text)
    {
        foreach (char c in text)
            if (c is not (>= ' ' and <= '~' or '\t' or '\n') || c == '&') return false;
        return true;
    }
}
