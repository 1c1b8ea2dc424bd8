using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenVision.Text;

namespace OpenVision.Tests.Text;

/// <summary><see cref="OpenVisionTokenizer.WordPieceIds(string, int)"/> and <see cref="OpenVisionTokenizer.Encode"/> stop
/// once the context is full: same ids as the full tokenization (<see cref="OpenVisionTokenizer.WordPieceIds(string)"/>,
/// kept as the oracle) cut to length, with work bounded by the ids kept, not by the text.</summary>
public class BoundedTokenizationTests
{
    private static readonly OpenVisionTokenizer Tokenizer = OpenVisionTokenizer.CreateDefault();

    // Fragments chosen to hit every non-local rule: entities (ftfy's and Python's, with and without ';', numeric, split
    // by removed controls), ftfy's '<' line rule, ANSI escapes, NFC/NFD across marks (U+0338 composes with '<' '=' '>'),
    // CJK spacing, special tokens, whitespace of every kind, surrogates, U+FFFE, long words near and over 100 chars.
    private static readonly string[] Fragments =
    [
        "cat", "dog", "a", "photo", "Café", "naïve", "RÉSUMÉ", "İstanbul", "ΑΘΗΝΑ", "tench", "beignet", "x", "Q", "123", "0",
        " ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00A0", "\u3000", "\u2028", "\u0085", "\u001C", "\f", "\v",
        ",", ".", "!", "?", "-", "'", "\"", "(", ")", "/", "\\", "_", "`", "~", "@", "$", "%", "^", "*", "+", ":", "|", "{", "}",
        "&", "#", ";", "<", "=", ">", "[", "]", "&amp;", "&amp", "&amp;amp;amp;", "&lt;", "&#65;", "&#x41", "&#0000065", "&#9999999999;",
        "&eacute", "&EACUTE;", "&nbsp;", "\uFF06amp;", "&am\u0001p;", "&#\u000165;", "&\u200Bamp;", "&a,b;", "&amp,",
        "\u001B[1;31m", "\u001B[", "\u001B[12", "m", "\u001B", "\u0001", "\u007F", "\u0080", "\u0093", "\u009D",
        "\u0301", "\u0338", "\u0316", "\u0345", "e\u0301", "=\u0338", "<\u0338", "\u1FEF", "\u037E", "\u0387",
        "日", "本", "語", "中文", "\u3001", "\u3002", "\uF900", "한국어", "\u1100\u1161", "ﬁ", "Ǌ", "Ａ", "！",
        "\u200B", "\u00AD", "\uFEFF", "\uFFFD", "\uFFFE", "\uD83D\uDE00", "\uD83D", "\uDE00", "\u0378", "\uE000", "\U000E0041",
        "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "[CL", "S]", "[bos]", "\u2018", "\u201D", "ß", "µ", "ǅ",
    ];

    private static string RandomText(Random random, int fragments)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < fragments; i++)
        {
            int kind = random.Next(20);
            if (kind == 0) sb.Append('w', random.Next(90, 130));                  // words around the 100-character limit
            else if (kind == 1 && random.Next(4) == 0) sb.Append(random.Next(2) == 0 ? 'z' : '7', random.Next(200, 3000));
            else if (kind == 2) sb.Append(Fragments[random.Next(Fragments.Length)], 0, 1).Append('\u0301', random.Next(1, 40));
            else sb.Append(Fragments[random.Next(Fragments.Length)]);
        }
        return sb.ToString();
    }

    private static void AssertPrefixesMatch(string text, string what)
    {
        var full = Tokenizer.WordPieceIds(text);
        foreach (int n in new[] { 0, 1, 2, 5, 40, 77, 78, 200, full.Count - 1, full.Count, full.Count + 1, int.MaxValue })
        {
            if (n < 0) continue;
            var bounded = Tokenizer.WordPieceIds(text, n);
            var expected = full.Take(n).ToList();
            if (!bounded.SequenceEqual(expected))
                Assert.Fail($"{what}: first {n} ids differ (full has {full.Count}); text {Escape(text[..Math.Min(text.Length, 400)])}...\n" +
                            $"expected {string.Join(",", expected.Take(120))}\nactual   {string.Join(",", bounded.Take(120))}");
        }
        long[] encoded = Tokenizer.Encode(text);
        int kept = Math.Min(full.Count, 77);
        var layout = new long[80];
        layout[0] = OpenVisionTokenizer.BosId;
        for (int i = 0; i < kept; i++) layout[i + 1] = full[i];
        layout[kept + 1] = OpenVisionTokenizer.EosId;
        layout[79] = OpenVisionTokenizer.ClassId;
        Assert.Equal(layout, encoded);
    }

    [Fact]
    public void RandomAdversarialTextsMatchTheFullTokenization()
    {
        var random = new Random(20250611);
        for (int i = 0; i < 1000; i++)
        {
            // Mostly past the first piece (256 characters) and often past several, so cuts fall everywhere.
            string text = RandomText(random, random.Next(4) == 0 ? random.Next(1, 30) : random.Next(50, 1200));
            AssertPrefixesMatch(text, $"random text {i}");
        }
    }

    [Fact]
    public void FewFragmentKindsMatchTheFullTokenization()
    {
        // Texts drawn from 2-4 fragments only, so rare neighbours (a mark after a cut, an entity around a cut) repeat often.
        var random = new Random(7);
        for (int i = 0; i < 600; i++)
        {
            var pool = Enumerable.Range(0, random.Next(2, 5)).Select(_ => Fragments[random.Next(Fragments.Length)]).ToArray();
            var sb = new StringBuilder();
            int count = random.Next(100, 2500);
            for (int j = 0; j < count; j++) sb.Append(pool[random.Next(pool.Length)]);
            AssertPrefixesMatch(sb.ToString(), $"pool {string.Join("|", pool.Select(Escape))}");
        }
    }

    [Fact]
    public void ReferenceCasesAndTheirConcatenationsMatch()
    {
        var texts = File.ReadLines(ReferenceData.Path("tokenizer", "cases.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!).ToList();
        Assert.Equal(600, texts.Count);
        foreach (string text in texts) AssertPrefixesMatch(text, "reference case");
        var random = new Random(3);
        string[] joins = ["", " ", "\n", ",", "&", "<", "\u0301", "日", "\u001B[", "[UNK]"];
        for (int i = 0; i < 300; i++)
        {
            string join = joins[random.Next(joins.Length)];
            AssertPrefixesMatch(string.Join(join, Enumerable.Range(0, random.Next(2, 40)).Select(_ => texts[random.Next(texts.Count)])),
                $"joined with {Escape(join)}");
        }
    }

    [Theory]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(700)]
    public void LongWordsStraddlingACutMatch(int at)
    {
        // A run of letters (with and without a non-ASCII letter or a mark inside) that starts before the first piece
        // ends and ends after it, in every length around the [UNK] limit.
        foreach (string middle in new[] { "", "é", "e\u0301", "\u200B", "&amp;", "ﬁ" })
            for (int length = 95; length <= 106; length++)
                for (int offset = 0; offset < length; offset += 7)
                {
                    string prefix = string.Concat(Enumerable.Repeat("cat ", at / 4 + 1))[..Math.Max(0, at - offset)];
                    string word = new string('k', length / 2) + middle + new string('k', length - length / 2);
                    AssertPrefixesMatch(prefix + word + " dog " + word + "," + string.Concat(Enumerable.Repeat("dog ", 80)), $"word of {length} at {at - offset}");
                }
    }

    [Fact]
    public void TheLineRuleLooksAtTheWholeLine()
    {
        // ftfy decodes "&amp;amp;amp;" to "&" unless its line (or an earlier one) has a '<': the '<' may be far past the cut.
        string filler = string.Concat(Enumerable.Repeat("cat ", 5000));
        foreach (string text in new[]
        {
            "&amp;amp;amp; " + filler, "&amp;amp;amp; " + filler + "<", "&amp;amp;amp; " + filler + "\n<", "<\n&amp;amp;amp; " + filler,
            "\uFF06amp;amp; " + filler + "<", filler + "&amp;amp;amp; " + filler + "<", "a < b\n" + filler + "&amp;amp; x",
        })
            AssertPrefixesMatch(text, "line rule");
        Assert.Equal(Tokenizer.WordPieceIds("& cat"), Tokenizer.WordPieceIds("&amp;amp;amp; " + filler, 2));          // "&"
        Assert.Equal(Tokenizer.WordPieceIds("& amp"), Tokenizer.WordPieceIds("&amp;amp;amp; " + filler + "<", 2));    // "&amp;"
    }

    [Fact]
    public void HugeTextsAreTokenizedWithBoundedAllocation()
    {
        string cats = string.Concat(Enumerable.Repeat("cat ", 2_000_000));               // 8 M characters, 16 MB
        string letters = new('a', 8_000_000);                                              // one 8 M-character word
        string lettersThenWords = new string('a', 8_000_000) + string.Concat(Enumerable.Repeat(", dog", 100));
        string oneLineWithEntity = "&amp;amp; " + cats + "<";                               // the line rule scans, never copies
        foreach (string text in new[] { cats, letters, lettersThenWords, oneLineWithEntity }) Tokenizer.Encode(text);   // warm up

        Assert.Equal(77, Tokenizer.Encode(cats).Count(id => id == 4937));
        Assert.Equal([1, 100, 2], Tokenizer.Encode(letters)[..3]);
        Assert.Equal([1, 100, 1010, 3899, 1010], Tokenizer.Encode(lettersThenWords)[..5]);
        foreach (var (text, name) in new[] { (cats, "cat x 2M"), (letters, "a x 8M"), (lettersThenWords, "a x 8M, dog"), (oneLineWithEntity, "entity line") })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Tokenizer.Encode(text);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 64 << 10, $"{name}: {allocated:N0} bytes allocated for a text of {2L * text.Length:N0} bytes");
        }
    }

    [Fact]
    public void BoundedEncodingReadsOnlyThePiecesItNeeds()
    {
        // Text past the point where the context fills is never looked at: garbage there (a lone surrogate run, an
        // unterminated entity, a '<' on another line) cannot change the ids, and the ids equal those of the prefix.
        string head = string.Concat(Enumerable.Repeat("a photo of a dog. ", 40));
        foreach (string tail in new[] { "", new string('\uD800', 100_000), "&#" + new string('9', 100_000), "\n<" + new string('x', 1000) })
            Assert.Equal(Tokenizer.Encode(head), Tokenizer.Encode(head + tail));
    }

    [Fact]
    public void CutCharactersAreInertUnderNormalization()
    {
        // TextCuts' claims, checked against .NET's Unicode data: no decomposition, combining class 0 (no reordering
        // against marks of class 1 or 230), not part of any canonical decomposition of two or more characters, left
        // alone by ftfy, whitespace, punctuation or CJK for the BERT pre-tokenizer, and not entity, ANSI or special-token syntax.
        var inMultiDecompositions = new HashSet<int>();
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF or 0xFFFE or 0xFFFF) continue;
            string s = char.ConvertFromUtf32(cp), d = s.Normalize(NormalizationForm.FormD);
            if (d == s || d.EnumerateRunes().Count() < 2) continue;
            foreach (Rune r in d.EnumerateRunes()) inMultiDecompositions.Add(r.Value);
        }
        int count = 0;
        for (int i = 0; i <= 0xFFFF; i++)
        {
            char c = (char)i;
            if (!TextCuts.Chars.Contains(c)) continue;
            count++;
            string s = c.ToString();
            Assert.False(inMultiDecompositions.Contains(c), $"U+{i:X4} is part of a canonical decomposition");
            Assert.Equal(s, s.Normalize(NormalizationForm.FormD));
            Assert.Equal(s, s.Normalize(NormalizationForm.FormC));
            Assert.Equal("\u0301" + s, ("\u0301" + s).Normalize(NormalizationForm.FormD));
            Assert.Equal(s + "\u0334", (s + "\u0334").Normalize(NormalizationForm.FormD));
            Assert.Equal(s, TextFixer.FixLinePart(s, unescapeHtml: true));
            Assert.DoesNotContain(c, "&#;[]<=>\r\u001B0123456789");
            Assert.False(char.IsAsciiLetterOrDigit(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.DecimalDigitNumber);
            var words = new List<string>();
            BertNormalizer.PreTokenize(BertNormalizer.Normalize("x" + s + "y"), words);
            Assert.Equal(char.IsWhiteSpace(c) ? ["x", "y"] : new[] { "x", s, "y" }, words.ToArray());
        }
        Assert.True(count > 20_000, $"{count} cut characters");
    }

    [Fact]
    public void OnlyTheTwoAmpersandsBecomeAnAmpersand()
    {
        // LineRule skips the line scan for pieces without '&' or U+FF06: no other character turns into '&' in ftfy.
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is >= 0xD800 and <= 0xDFFF || cp is '&' or 0xFF06) continue;
            string s = char.ConvertFromUtf32(cp);
            Assert.False(TextFixer.FixLinePart(s, unescapeHtml: false).Contains('&'), $"U+{cp:X4}");
        }
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        Assert.Throws<ArgumentNullException>(() => Tokenizer.WordPieceIds(null!, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.WordPieceIds("a dog", -1));
        Assert.Empty(Tokenizer.WordPieceIds("a dog", 0));
    }

    private static string Escape(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in text) sb.Append(c is >= ' ' and <= '~' && c != '"' && c != '\\' ? c.ToString() : $"\\u{(int)c:X4}");
        return sb.Append('"').ToString();
    }
}
