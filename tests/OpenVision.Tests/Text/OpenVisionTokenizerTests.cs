using OpenVision.Text;

namespace OpenVision.Tests.Text;

public class OpenVisionTokenizerTests
{
    private static readonly OpenVisionTokenizer Tokenizer = OpenVisionTokenizer.CreateDefault();

    // [1, head..., 2, 0×pads, 101]; the length check guards the expectations themselves.
    private static long[] Layout(int pads, params long[] pieces)
    {
        long[] ids = [OpenVisionTokenizer.BosId, .. pieces, OpenVisionTokenizer.EosId, .. new long[pads], OpenVisionTokenizer.ClassId];
        Assert.Equal(80, ids.Length);
        return ids;
    }

    public static TheoryData<string, long[]> WorkedExamples => new()
    {
        // openvision-reference.md §3.5
        { "a diagram", Layout(75, 1037, 16403) },
        { "a dog", Layout(75, 1037, 3899) },
        { "a cat", Layout(75, 1037, 4937) },
        { "a beignet", Layout(73, 1037, 21388, 10177, 2102) },                       // a bei ##gne ##t
        { "a photo of a dog.", Layout(71, 1037, 6302, 1997, 1037, 3899, 1012) },
        { "A Café, naïve RÉSUMÉ!", Layout(71, 1037, 7668, 1010, 15743, 13746, 999) },    // a cafe , naive resume !
        { "a photo of the large goldfish.", Layout(69, 1037, 6302, 1997, 1996, 2312, 2751, 7529, 1012) },
        { "tench", Layout(75, 2702, 2818) },                                          // ten ##ch
    };

    [Theory]
    [MemberData(nameof(WorkedExamples))]
    public void EncodesWorkedExamples(string text, long[] expected) => Assert.Equal(expected, Tokenizer.Encode(text));

    [Fact]
    public void DefaultTokenizerIsSharedAndDescribesItself()
    {
        Assert.Same(Tokenizer, OpenVisionTokenizer.CreateDefault());
        Assert.Equal(80, Tokenizer.ContextLength);
        Assert.Equal(30522, Tokenizer.VocabularySize);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \t\n ")]
    [InlineData("\u200b\u00ad")]   // nothing left after cleaning
    public void EmptyTextIsBosEosPaddingCls(string text) => Assert.Equal(Layout(77), Tokenizer.Encode(text));

    [Fact]
    public void LongTextKeepsTheFirst77Pieces()
    {
        string text = string.Join(' ', Enumerable.Range(0, 100).Select(i => i % 2 == 0 ? "dog" : "cat"));
        Assert.Equal(100, Tokenizer.WordPieceIds(text).Count);
        long[] ids = Tokenizer.Encode(text);
        Assert.Equal(80, ids.Length);
        Assert.Equal(1, ids[0]);
        for (int i = 1; i <= 77; i++) Assert.Equal(i % 2 == 1 ? 3899 : 4937, ids[i]);
        Assert.Equal([2, 101], ids[78..]);
    }

    [Fact]
    public void WordsOver100CharactersAreUnknown()
    {
        Assert.Equal([100], Tokenizer.WordPieceIds(new string('w', 101)));
        Assert.DoesNotContain(100, Tokenizer.WordPieceIds(new string('w', 100)));
        Assert.Equal([100, 3899], Tokenizer.WordPieceIds(new string('w', 101) + " dog"));
    }

    [Fact]
    public void LiteralSpecialTokensAreMatchedBeforeNormalization()
    {
        Assert.Equal([1037, 101, 3899], Tokenizer.WordPieceIds("a [CLS] dog"));
        Assert.Equal([1060, 101, 1061], Tokenizer.WordPieceIds("x[CLS]y"));                // no spaces needed
        Assert.Equal([100, 102, 0, 103], Tokenizer.WordPieceIds("[UNK][SEP][PAD][MASK]"));
        Assert.DoesNotContain(101, Tokenizer.WordPieceIds("[cls]"));                        // case-sensitive: "[", "cl", "##s", "]"
        Assert.Equal(Tokenizer.WordPieceIds("[ bos ]"), Tokenizer.WordPieceIds("[bos]"));   // [bos] is not an added token
    }

    [Fact]
    public void CjkIdeographsBecomeSeparateWords()
    {
        var ids = Tokenizer.WordPieceIds("日本語dog中文");
        Assert.Equal(["日", "本", "語", "dog", "中", "文"], ids.Select(id => Tokenizer.Decode([id])));
        Assert.Equal(Tokenizer.WordPieceIds("日 本 語 dog 中 文"), ids);
    }

    [Theory]
    [InlineData("Café naïve RÉSUMÉ Ångström", "cafe naive resume angstrom")]
    [InlineData("cafe\u0301", "cafe")]          // decomposed accent
    [InlineData("İstanbul", "istanbul")]
    [InlineData("ΑΘΗΝΑ", "αθηνα")]
    public void AccentsAreStrippedAndCaseIsFolded(string text, string plain) =>
        Assert.Equal(Tokenizer.WordPieceIds(plain), Tokenizer.WordPieceIds(text));

    [Fact]
    public void OtherContextLengthsTruncateToContextMinusThree()
    {
        var small = OpenVisionTokenizer.CreateDefault(contextLength: 8);
        Assert.Equal(8, small.ContextLength);
        Assert.Equal([1, 1037, 3899, 2, 0, 0, 0, 101], small.Encode("a dog"));
        Assert.Equal([1, 3899, 4937, 3899, 4937, 3899, 2, 101], small.Encode("dog cat dog cat dog cat dog"));
        Assert.Equal([1, 2, 101], OpenVisionTokenizer.CreateDefault(3).Encode("a dog"));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenVisionTokenizer.CreateDefault(2));
        long[,] batch = small.EncodeBatch(["a dog", ""]);
        Assert.Equal(8, batch.GetLength(1));
        Assert.Equal(2, batch[1, 1]);
    }

    [Theory]
    [InlineData("a photo of a dog")]
    [InlineData("a beignet and the large goldfish")]
    [InlineData("unaffable tench in the wild")]
    public void DecodeRoundTripsPlainAsciiText(string text)
    {
        long[] ids = Tokenizer.Encode(text);
        Assert.Equal(text, Tokenizer.Decode(ids));
        Assert.Equal(ids, Tokenizer.Encode(Tokenizer.Decode(ids)));
    }

    [Fact]
    public void DecodeKeepsPunctuationSeparateAndCanShowSpecials()
    {
        long[] ids = Tokenizer.Encode("A photo of a Dog.");
        Assert.Equal("a photo of a dog .", Tokenizer.Decode(ids));
        Assert.Equal(ids, Tokenizer.Encode(Tokenizer.Decode(ids)));
        Assert.Equal("[bos] a dog [eos] [PAD] [CLS]", Tokenizer.Decode([1, 1037, 3899, 2, 0, 101], skipSpecialTokens: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([30522]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([-1]));
    }

    [Fact]
    public void NullArgumentsAreRejected()
    {
        Assert.Throws<ArgumentNullException>(() => Tokenizer.Encode(null!));
        Assert.Throws<ArgumentNullException>(() => Tokenizer.WordPieceIds(null!));
        Assert.Throws<ArgumentNullException>(() => Tokenizer.EncodeBatch(null!));
        var e = Assert.Throws<ArgumentNullException>(() => Tokenizer.EncodeBatch(["a dog", null!]));
        Assert.Contains("texts[1]", e.Message);
        Assert.Throws<ArgumentNullException>(() => Tokenizer.Decode(null!));
        Assert.Throws<ArgumentNullException>(() => OpenVisionTokenizer.FromVocabFile(null!));
    }
}
