using OpenVision.Text;

namespace OpenVision.Tests.Text;

/// <summary>open_clip's clean: ftfy subset, html.unescape twice, strip, collapse whitespace. Expected values are what
/// Python 3.11 with ftfy 6.3.1 prints for the same input.</summary>
public class TextCleanerTests
{
    [Theory]
    // Python html.unescape: HTML5 names, legacy names without ';', longest prefix, numeric references.
    [InlineData("fish &amp; chips", "fish & chips")]
    [InlineData("&eacute;t&eacute", "été")]
    [InlineData("&notit;", "¬it;")]
    [InlineData("&#65;&#x42;&#67 &#X44;", "ABC D")]
    [InlineData("&#128;&#150;", "€–")]
    [InlineData("&#0;", "\uFFFD")]
    [InlineData("&#x110000;&#xD800;", "\uFFFD\uFFFD")]
    [InlineData("a&#1;b", "ab")]
    [InlineData("&#x1F436;", "🐶")]
    [InlineData("&CounterClockwiseContourIntegral;", "∳")]
    [InlineData("& &# &#x; &unknown;", "& &# &#x; &unknown;")]
    // ftfy unescapes until nothing changes, then Python twice more; with a '<' on the line ftfy leaves entities alone.
    [InlineData("&amp;amp;amp;amp;", "&")]
    [InlineData("<b>&amp;amp;amp;amp;</b>", "<b>&amp;amp;</b>")]
    [InlineData("&EACUTE;", "É")]
    public void UnescapesHtmlLikePython(string text, string expected) => Assert.Equal(expected, TextCleaner.Clean(text));

    [Theory]
    [InlineData("  a\tb\n\nc\u00A0d\u2003e\u3000f\u2028g  ", "a b c d e f g")]
    [InlineData("a\u001Cb", "ab")]             // ftfy removes the separator before Python's split would see it
    [InlineData("a\u200Bb", "a\u200Bb")]       // zero-width space is not whitespace to Python (BERT drops it later)
    [InlineData("&nbsp;a photo.&nbsp;", "a photo.")]
    [InlineData("", "")]
    public void CollapsesWhitespaceLikePythonSplit(string text, string expected) => Assert.Equal(expected, TextCleaner.Clean(text));

    [Theory]
    [InlineData("\u201Cquoted\u201D and \u2018single\u2019", "\"quoted\" and 'single'")]
    [InlineData("\uFB01ne \uFB03x \u0132", "fine ffix IJ")]
    [InlineData("\uFF21\uFF22\uFF23\uFF11 \uFF76", "ABC1 カ")]
    [InlineData("\u0093x\u0094 \u0080 \u0085", "\"x\" € …")]       // C1 controls read as Windows-1252
    [InlineData("\u001B[31mred\u001B[0m", "red")]
    [InlineData("e\u0301", "é")]                                  // NFC
    [InlineData("\u0007bell\u007F\uFEFF", "bell")]
    [InlineData("a\r\nb\rc", "a b c")]
    public void AppliesFtfyFixes(string text, string expected) => Assert.Equal(expected, TextCleaner.Clean(text));

    [Theory]
    [InlineData("caf\u00C3\u00A9")]   // mojibake repair (ftfy fix_encoding) is not replicated
    [InlineData("\u01CA")]            // ftfy 6 splits Ǌ into NJ; the reference ids keep it (→ [UNK])
    public void DocumentedDifferencesFromFtfyStayAsTheyAre(string text) => Assert.Equal(text, TextCleaner.Clean(text));

    [Fact]
    public void LoneSurrogatesBecomeReplacementCharacters() =>
        Assert.Equal("a\uFFFDb\uD83D\uDC36", TextCleaner.Clean("a\uD800b\uD83D\uDC36"));

    [Fact]
    public void NoncharacterU_FFFE_DoesNotBreakNormalization() =>
        Assert.Equal("\uFFFEé", TextCleaner.Clean("\uFFFEe\u0301"));

    [Fact]
    public void NullIsRejected() => Assert.Throws<ArgumentNullException>(() => TextCleaner.Clean(null!));
}
