using System.Text;
using OpenVision.Text;

namespace OpenVision.Tests.Text;

/// <summary>FromVocabFile with tiny vocabularies written by the test (ML.Tokenizers style) and broken files.</summary>
public sealed class VocabularyFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ov-vocab-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The layout needs ids 0, 1, 2 and 101; fill the gaps with [unusedN] as BERT does.
    private static List<string> TinyVocabulary(params string[] words)
    {
        var lines = Enumerable.Range(0, 102).Select(i => $"[unused{i}]").ToList();
        (lines[0], lines[1], lines[2], lines[100], lines[101]) = ("[PAD]", "[bos]", "[eos]", "[UNK]", "[CLS]");
        lines.AddRange(words);
        return lines;
    }

    private string Write(string name, IEnumerable<string> lines) => WriteBytes(name, Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));

    private string WriteBytes(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void GreedyLongestMatchWithContinuationPieces()
    {
        // ids: un=102, ##aff=103, ##able=104, ##a=105, aff=106, .=107
        var tokenizer = OpenVisionTokenizer.FromVocabFile(Write("tiny.txt", TinyVocabulary("un", "##aff", "##able", "##a", "aff", ".")), contextLength: 10);
        Assert.Equal(108, tokenizer.VocabularySize);
        Assert.Equal([102, 103, 104], tokenizer.WordPieceIds("unaffable"));
        Assert.Equal([106, 105], tokenizer.WordPieceIds("AFFA"));
        Assert.Equal([100, 107, 102], tokenizer.WordPieceIds("unaffablex. un"));      // one unmatched position: the whole word is [UNK]
        Assert.Equal([1, 102, 103, 104, 2, 0, 0, 0, 0, 101], tokenizer.Encode("unaffable"));
        Assert.Equal("unaffable affa", tokenizer.Decode([1, 102, 103, 104, 106, 105, 2, 0, 101]));
    }

    [Fact]
    public void ReferenceVocabularyFileEncodesLikeTheEmbeddedOne()
    {
        var fromFile = OpenVisionTokenizer.FromVocabFile(ReferenceData.Path("vocab", "bert_base_vocab_bos_eos.txt"));
        Assert.Equal(OpenVisionTokenizer.CreateDefault().Encode("A Café, naïve RÉSUMÉ! [CLS]"), fromFile.Encode("A Café, naïve RÉSUMÉ! [CLS]"));
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(_dir, "nope.txt");
        var e = Assert.Throws<FileNotFoundException>(() => OpenVisionTokenizer.FromVocabFile(path));
        Assert.Contains(path, e.Message);
    }

    public static TheoryData<string, string> BrokenFiles => new()
    {
        { "empty", "empty vocabulary" },
        { "blank line", "line 5 is blank" },
        { "duplicate", "repeats the token \"dog\"" },
        { "no unk", "no [UNK]" },
        { "too short", "the OpenVision layout uses ids up to 101" },
        { "not utf8", "not UTF-8" },
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void MalformedFilesAreRejectedWithTheirName(string kind, string problem)
    {
        var good = TinyVocabulary("dog");
        string path = kind switch
        {
            "empty" => WriteBytes("empty.txt", []),
            "blank line" => Write("blank.txt", good.Take(4).Append("").Concat(good.Skip(4))),
            "duplicate" => Write("dup.txt", good.Append("dog")),
            "no unk" => Write("nounk.txt", good.Select(t => t == "[UNK]" ? "[UNKNOWN]" : t)),
            "too short" => Write("short.txt", ["[PAD]", "[bos]", "[eos]", "[UNK]"]),
            "not utf8" => WriteBytes("latin1.txt", [.. Encoding.UTF8.GetBytes("[PAD]\n"), 0xE9, 0x0A]),
            _ => throw new ArgumentException(kind),
        };
        var e = Assert.Throws<VocabularyFormatException>(() => OpenVisionTokenizer.FromVocabFile(path));
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(problem, e.Message);
    }
}
