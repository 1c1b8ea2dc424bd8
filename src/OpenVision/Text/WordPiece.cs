using System.Text;

namespace OpenVision.Text;

/// <summary>A BERT WordPiece vocabulary (one token per line, id = line index) and the greedy longest-match model.</summary>
/// <remarks>Hugging Face <c>tokenizers/src/models/wordpiece</c>: words over 100 characters and words with any
/// position that no piece matches become a single [UNK]; continuation pieces carry the "##" prefix.
/// Immutable after loading, so one instance serves any number of threads.</remarks>
internal sealed class WordPiece
{
    /// <summary>The unknown-token name.</summary>
    public const string UnknownToken = "[UNK]";

    private const int MaxInputCharsPerWord = 100;   // counted in Unicode scalar values, as Rust's chars().count()
    private const string ContinuationPrefix = "##";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;        // every token
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuations; // "##x" keyed by "x"

    private WordPiece(string[] tokens, Dictionary<string, int> pieces, Dictionary<string, int> continuations)
    {
        _tokens = tokens;
        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuations = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        UnknownId = pieces[UnknownToken];
    }

    /// <summary>Number of tokens.</summary>
    public int Count => _tokens.Length;

    /// <summary>Id of [UNK].</summary>
    public int UnknownId { get; }

    /// <summary>The token string of <paramref name="id"/>.</summary>
    public string Token(int id) => _tokens[id];

    /// <summary>The id of an exact token string, if present.</summary>
    public bool TryGetId(ReadOnlySpan<char> token, out int id) => _pieces.TryGetValue(token, out id);

    /// <summary>Appends the ids of one pre-tokenized word.</summary>
    public void Tokenize(string word, List<int> ids)
    {
        if (word.Length > MaxInputCharsPerWord && CountRunes(word) > MaxInputCharsPerWord)
        {
            ids.Add(UnknownId);
            return;
        }
        int first = ids.Count;
        for (int start = 0; start < word.Length;)
        {
            // Longest piece first. Shrinking by one UTF-16 unit instead of one scalar value tries extra candidates
            // that end inside a surrogate pair, but no vocabulary token ends in a high surrogate, so none matches.
            var lookup = start == 0 ? _pieces : _continuations;
            int end = word.Length, id = -1;
            for (; end > start; end--)
                if (lookup.TryGetValue(word.AsSpan(start, end - start), out id)) break;
            if (end == start)
            {
                ids.RemoveRange(first, ids.Count - first);
                ids.Add(UnknownId);
                return;
            }
            ids.Add(id);
            start = end;
        }
    }

    /// <summary>Reads a vocabulary; <paramref name="name"/> names the source in error messages.</summary>
    /// <exception cref="VocabularyFormatException">The data is not UTF-8, is empty, has a blank or repeated line, or lacks
    /// [UNK] or one of the ids the OpenVision layout needs.</exception>
    public static WordPiece Read(Stream stream, string name, int minimumCount)
    {
        var tokens = new List<string>(32000);
        var pieces = new Dictionary<string, int>(32000, StringComparer.Ordinal);
        var continuations = new Dictionary<string, int>(8000, StringComparer.Ordinal);
        var strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        using var reader = new StreamReader(stream, strictUtf8, detectEncodingFromByteOrderMarks: false);
        try
        {
            while (reader.ReadLine() is { } line)
            {
                int lineNumber = tokens.Count + 1;
                // tokenizers' WordPiece::read_file trims trailing whitespace (and so the '\r' of CRLF files).
                string token = line.TrimEnd();
                if (token.Length == 0)
                    throw new VocabularyFormatException(name, $"line {lineNumber} is blank; every line must hold one token");
                if (!pieces.TryAdd(token, tokens.Count))
                    throw new VocabularyFormatException(name, $"line {lineNumber} repeats the token \"{token}\" of line {pieces[token] + 1}");
                if (token.Length > ContinuationPrefix.Length && token.StartsWith(ContinuationPrefix, StringComparison.Ordinal))
                    continuations[token[ContinuationPrefix.Length..]] = tokens.Count;
                tokens.Add(token);
            }
        }
        catch (DecoderFallbackException e)
        {
            throw new VocabularyFormatException(name, $"not UTF-8 text (after line {tokens.Count})", e);
        }
        if (tokens.Count == 0) throw new VocabularyFormatException(name, "empty vocabulary");
        if (!pieces.ContainsKey(UnknownToken)) throw new VocabularyFormatException(name, $"no {UnknownToken} token");
        if (tokens.Count < minimumCount)
            throw new VocabularyFormatException(name, $"{tokens.Count} tokens, but the OpenVision layout uses ids up to {minimumCount - 1}");
        return new WordPiece([.. tokens], pieces, continuations);
    }

    private static int CountRunes(string word)
    {
        int count = 0;
        for (int i = 0; i < word.Length; i++, count++)
            if (char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1])) i++;
        return count;
    }
}
