using System.Buffers;
using System.Text;

namespace OpenVision.Text;

/// <summary>Where raw text may be cut so that the pieces tokenize independently: the ids of <c>text[..i]</c> followed by
/// those of <c>text[i..]</c> are the ids of <c>text</c> whenever <c>text[i - 1]</c> is one of <see cref="Chars"/>
/// (and the ftfy line rule is carried across the cut by a <see cref="LineRule"/>).</summary>
/// <remarks>
/// Why each step of the pipeline leaves such a character c in place and reaches across it with nothing:
/// <list type="bullet">
/// <item>ftfy (<see cref="TextFixer"/>): c is not in the entity pattern <c>&amp;#?[0-9A-Za-z]{1,24};</c> nor in the ANSI
/// pattern (ESC, '[', digits, ';', letters); no character map or removal touches it; it has no canonical decomposition,
/// combining class 0 and is part of no canonical decomposition of two or more characters, so NFC neither composes it
/// nor reorders marks across it; it survives every round, so the rounds stay independent on both sides.</item>
/// <item>html.unescape: c is not a digit, '#', ';', 'x' or '&amp;'; a name may run through c, but every HTML5 name is
/// ASCII letters and digits, so the decoded prefix and the literal rest come out as if the name stopped before c.</item>
/// <item>The whitespace collapse, the added special tokens ('[' and ']' are excluded), BertNormalizer (per character,
/// NFD as above) and BertPreTokenizer: c is whitespace, punctuation or a CJK ideograph, so no word spans it.</item>
/// </list>
/// '\n' also ends a ftfy line: whether a line decodes entities depends on the whole line ('&lt;' anywhere in it turns
/// decoding off for that line and the rest of the text), which <see cref="LineRule"/> answers for each piece.
/// Left out on purpose: '&amp;' '#' ';' '[' ']' (entity, ANSI and special-token syntax), '&lt;' '=' '&gt;' (NFC composes
/// them with U+0338), '\r' ("\r\n"), U+3000 and the full-width forms (mapped by ftfy), and everything else.
/// The tests check the NFC facts for every character here against .NET's Unicode data.
/// </remarks>
internal static class TextCuts
{
    /// <summary>ASCII whitespace and the safe ASCII punctuation.</summary>
    public const string AsciiChars = " \t\n!\"$%'()*+,-./:?@\\^_`{|}~";

    /// <summary>Every cut character: <see cref="AsciiChars"/>, U+00A0, the ideographic comma and full stop and the
    /// CJK Unified Ideographs of the BMP (U+3400-U+4DBF, U+4E00-U+9FFF).</summary>
    public static readonly SearchValues<char> Chars = SearchValues.Create(BuildChars());

    /// <summary>ASCII letters and digits: a run of them between cuts is one word, [UNK] once over 100 characters.</summary>
    public static readonly SearchValues<char> AsciiLettersAndDigits =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static string BuildChars()
    {
        var sb = new StringBuilder(AsciiChars).Append('\u00A0').Append('\u3001').Append('\u3002');
        for (char c = '\u3400'; c <= '\u4DBF'; c++) sb.Append(c);
        for (char c = '\u4E00'; c <= '\u9FFF'; c++) sb.Append(c);
        return sb.ToString();
    }

    /// <summary>ftfy's line rule over a text read piece by piece, front to back: a line decodes entities unless it or an
    /// earlier line contains '&lt;'. Looks ahead in the current line only for a piece whose answer matters.</summary>
    public sealed class LineRule(string text)
    {
        private bool _htmlOff;       // an earlier line had '<'
        private bool _ltInLine;      // the part of the current line already read has '<'
        private int _scanFrom = 1, _scanHit;   // no '<' or '\n' in [_scanFrom, _scanHit); _scanHit is one or the end

        /// <summary>Whether <c>text[start..end)</c>, a piece of one line that starts where the previous piece ended and may
        /// end with that line's '\n', is fixed with entity decoding. Pieces with no '&amp;' (nor U+FF06, which ftfy maps to
        /// '&amp;') are fixed the same either way, and for them the rest of the line is not read.</summary>
        public bool UnescapeHtml(int start, int end)
        {
            var piece = text.AsSpan(start, end - start);
            bool lt = piece.Contains('<'), endsLine = piece.Length > 0 && piece[^1] == '\n';
            bool unescape = !(_htmlOff || _ltInLine || lt)
                && (endsLine || !piece.ContainsAny('&', '\uFF06') || !RestOfLineHasLt(end));
            _ltInLine |= lt;
            if (endsLine)
            {
                _htmlOff |= _ltInLine;
                _ltInLine = false;
            }
            return unescape;
        }

        private bool RestOfLineHasLt(int from)
        {
            if (from < _scanFrom || from > _scanHit)
            {
                int i = text.AsSpan(from).IndexOfAny('<', '\n');
                (_scanFrom, _scanHit) = (from, i < 0 ? text.Length : from + i);
            }
            return _scanHit < text.Length && text[_scanHit] == '<';
        }
    }
}
