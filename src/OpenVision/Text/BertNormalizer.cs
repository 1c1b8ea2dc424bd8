using System.Text;

namespace OpenVision.Text;

/// <summary>Hugging Face <c>BertNormalizer</c> with BertWordPieceTokenizer's defaults, and <c>BertPreTokenizer</c>.</summary>
/// <remarks>
/// <c>tokenizers/src/normalizers/bert.rs</c>: clean_text, handle_chinese_chars, strip_accents (follows lowercase),
/// lowercase, in that order; <c>pre_tokenizers/bert.rs</c>: split on whitespace, isolate punctuation. Category
/// questions go to <see cref="UnicodeTables"/> (the crate's Unicode 8 tables), whitespace and lowercase to the
/// current Unicode data, as Rust's standard library answers them.
/// </remarks>
internal static class BertNormalizer
{
    /// <summary>Normalizes one piece of text (no added special tokens inside).</summary>
    public static string Normalize(string text)
    {
        // a. clean_text: drop NUL, U+FFFD and "other" characters (tab, newline and CR excepted), then whitespace → ' '.
        // b. handle_chinese_chars: a space on both sides of every CJK ideograph.
        var sb = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i], start = i;
            if (char.IsSurrogate(text[i]))
            {
                if (!char.IsHighSurrogate(text[i]) || i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])) continue;   // Rust strings cannot hold these
                cp = char.ConvertToUtf32(text[i], text[++i]);
            }
            if (cp is '\t' or '\n' or '\r') { sb.Append(' '); continue; }
            if (cp is 0 or 0xFFFD || UnicodeTables.IsOther(cp)) continue;
            if (IsRustWhitespace(cp)) { sb.Append(' '); continue; }
            bool chinese = IsChineseChar(cp);
            if (chinese) sb.Append(' ');
            sb.Append(text, start, i - start + 1);
            if (chinese) sb.Append(' ');
        }

        // c. strip_accents: NFD, then drop nonspacing marks. d. lowercase: char by char (no final-sigma rule).
        string decomposed = UnicodeNormalizer.Normalize(sb.ToString(), NormalizationForm.FormD);
        sb.Clear();
        Span<char> pair = stackalloc char[2];
        foreach (Rune rune in decomposed.EnumerateRunes())
        {
            if (UnicodeTables.IsNonspacingMark(rune.Value)) continue;
            // Rust char::to_lowercase is the full mapping; it differs from the simple one only for U+0130, which NFD
            // has already decomposed, so the branch is for completeness.
            if (rune.Value == 0x130) { sb.Append("i\u0307"); continue; }
            Rune lower = Rune.ToLowerInvariant(rune);
            if (lower.IsBmp) sb.Append((char)lower.Value);
            else sb.Append(pair[..lower.EncodeToUtf16(pair)]);
        }
        return sb.ToString();
    }

    /// <summary>BertPreTokenizer: splits normalized text on whitespace (dropped) and punctuation (kept, one per word).</summary>
    public static void PreTokenize(string normalized, List<string> words)
    {
        int start = -1;
        for (int i = 0; i < normalized.Length;)
        {
            Rune.DecodeFromUtf16(normalized.AsSpan(i), out Rune rune, out int width);
            bool space = IsRustWhitespace(rune.Value), punctuation = !space && UnicodeTables.IsPunctuation(rune.Value);
            if (space || punctuation)
            {
                if (start >= 0) words.Add(normalized[start..i]);
                start = -1;
                if (punctuation) words.Add(normalized.Substring(i, width));
            }
            else if (start < 0) start = i;
            i += width;
        }
        if (start >= 0) words.Add(normalized[start..]);
    }

    // Rust char::is_whitespace, the Unicode White_Space property.
    private static bool IsRustWhitespace(int cp) => cp switch
    {
        ' ' or (>= '\t' and <= '\r') or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    // bert.rs is_chinese_char: the CJK Unified Ideographs blocks and extensions plus the compatibility ideographs.
    private static bool IsChineseChar(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
