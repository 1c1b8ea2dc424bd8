using System.Text;

namespace OpenVision.Text;

/// <summary>The OpenVision text tokenizer: lower-cased BERT WordPiece in the layout
/// <c>[bos]=1, word pieces, [eos]=2, [PAD]=0 …, [CLS]=101</c> (open_clip fork <c>CLIPS_Tokenizer</c>).</summary>
/// <remarks>
/// Pipeline: <see cref="TextCleaner.Clean"/>; added special tokens ([UNK] [SEP] [CLS] [PAD] [MASK]) cut out of the raw
/// text; Hugging Face BertNormalizer and BertPreTokenizer; WordPiece. Matches Hugging Face <c>tokenizers</c>'
/// BertWordPieceTokenizer with default options id for id on the 600 reference cases.
/// Why not Microsoft.ML.Tokenizers' BertTokenizer (2.0.1): measured on those cases it gets at best 423 of 600 right
/// (after our clean, with RemoveNonSpacingMarks). Its basic tokenizer drops symbols and unassigned code points that
/// the reference keeps as tokens or [UNK] (© ™ ² № = ^, emoji, U+0378), splits words at spacing marks ("தமிழ்" gives
/// three pieces, the reference one [UNK]) and uses .NET's current Unicode tables where the reference uses the 2016
/// tables of the <c>unicode_categories</c> crate (see <c>UnicodeTables</c>).
/// Instances are immutable and safe to use from many threads.
/// </remarks>
public sealed class OpenVisionTokenizer
{
    /// <summary>The context length of every OpenVision model (ids per text).</summary>
    public const int DefaultContextLength = 80;

    /// <summary>Id of [PAD], which fills the positions between [eos] and [CLS].</summary>
    public const int PadId = 0;

    /// <summary>Id of [bos] (the vocabulary's renamed [unused0]).</summary>
    public const int BosId = 1;

    /// <summary>Id of [eos] (the vocabulary's renamed [unused1]).</summary>
    public const int EosId = 2;

    /// <summary>Id of [CLS], always the last id; the text tower pools that position.</summary>
    public const int ClassId = 101;

    private const string EmbeddedVocabulary = "OpenVision.Text.Assets.bert_base_vocab_bos_eos.txt";

    // BertWordPieceTokenizer registers these as added special tokens: matched in the raw text, never normalized.
    private static readonly string[] AddedSpecialTokens = ["[UNK]", "[SEP]", "[CLS]", "[PAD]", "[MASK]"];

    // WordPieceIds(text, maxCount) reads pieces of about 256, 512, ... characters, at most 64 Ki each.
    private const int FirstPieceLength = 256, MaxPieceLength = 65536;

    private static readonly Lazy<WordPiece> DefaultVocabulary = new(ReadEmbeddedVocabulary);
    private static readonly Lazy<OpenVisionTokenizer> Default = new(() => new(DefaultVocabulary.Value, DefaultContextLength));

    private readonly WordPiece _vocabulary;
    private readonly (string Text, int Id)[] _specialTokens;
    private readonly HashSet<int> _specialIds;

    private OpenVisionTokenizer(WordPiece vocabulary, int contextLength)
    {
        // [bos], [eos] and [CLS] need three places.
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 3);
        _vocabulary = vocabulary;
        ContextLength = contextLength;
        var specials = new List<(string, int)>();
        foreach (string token in AddedSpecialTokens)
            if (vocabulary.TryGetId(token, out int id)) specials.Add((token, id));
        _specialTokens = [.. specials];
        _specialIds = [PadId, BosId, EosId, ClassId, .. _specialTokens.Select(s => s.Id)];
    }

    /// <summary>Ids per encoded text: <see cref="Encode"/> keeps at most <c>ContextLength - 3</c> word pieces.</summary>
    /// <remarks>The reference truncates to 77 pieces whatever the context length, so its rows for lengths other than 80
    /// are not all one length; ours are. OpenVision models accept only 80.</remarks>
    public int ContextLength { get; }

    /// <summary>Number of tokens in the vocabulary (30,522 for the OpenVision vocabulary).</summary>
    public int VocabularySize => _vocabulary.Count;

    /// <summary>The tokenizer with the OpenVision vocabulary embedded in this library; the vocabulary is read once and shared.</summary>
    /// <param name="contextLength">Ids per text; OpenVision models need 80.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="contextLength"/> is less than 3.</exception>
    public static OpenVisionTokenizer CreateDefault(int contextLength = DefaultContextLength) =>
        contextLength == DefaultContextLength ? Default.Value : new(DefaultVocabulary.Value, contextLength);

    /// <summary>A tokenizer reading its vocabulary from a BERT <c>vocab.txt</c> (one token per line, id = line index).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <param name="path">The vocabulary file.</param>
    /// <param name="contextLength">Ids per text; OpenVision models need 80.</param>
    /// <remarks>The layout ids 0, 1, 2 and 101 are fixed, as in the reference's CustomTokenizer, whatever tokens the file
    /// puts there.</remarks>
    /// <exception cref="VocabularyFormatException">The file is not a usable vocabulary.</exception>
    public static OpenVisionTokenizer FromVocabFile(string path, int contextLength = DefaultContextLength)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"vocabulary file not found: {path}", path);
        using var stream = File.OpenRead(path);
        return new(WordPiece.Read(stream, path, ClassId + 1), contextLength);
    }

    /// <summary>Encodes one text into exactly <see cref="ContextLength"/> ids: [bos], the first
    /// <c>ContextLength - 3</c> word pieces, [eos], [PAD]s, [CLS].</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public long[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new long[ContextLength];
        Fill(WordPieceIds(text, ContextLength - 3), ids);
        return ids;
    }

    /// <summary>Encodes texts into a [texts.Count, ContextLength] array, one row per text as <see cref="Encode"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="texts"/> or one of its items is null.</exception>
    public long[,] EncodeBatch(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var batch = new long[texts.Count, ContextLength];
        var row = new long[ContextLength];
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i] is null) throw new ArgumentNullException(nameof(texts), $"texts[{i}] is null");
            Fill(WordPieceIds(texts[i], ContextLength - 3), row);
            for (int j = 0; j < row.Length; j++) batch[i, j] = row[j];
        }
        return batch;
    }

    /// <summary>The word-piece ids of <paramref name="text"/> without [bos], [eos], padding, [CLS] or truncation.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <remarks>Reads and tokenizes all of <paramref name="text"/>; <see cref="WordPieceIds(string, int)"/> stops early.</remarks>
    public IReadOnlyList<int> WordPieceIds(string text)
    {
        string cleaned = TextCleaner.Clean(text);
        var ids = new List<int>(cleaned.Length / 3 + 4);
        AppendCleaned(cleaned, new List<string>(), ids);
        return ids;
    }

    /// <summary>The first <paramref name="maxCount"/> ids of <see cref="WordPieceIds(string)"/>, found without reading
    /// further than those ids need.</summary>
    /// <remarks>The text is cut into pieces after characters that no step of the pipeline reaches across (ASCII
    /// whitespace, most ASCII punctuation, CJK ideographs; see <c>TextCuts</c>) and the pieces are tokenized in order
    /// until <paramref name="maxCount"/> ids are out, so time and memory follow the ids kept, not the text: a 29 MB text
    /// costs what its first few hundred characters cost. A run of more than 100 ASCII letters and digits between cuts
    /// is one [UNK] and is scanned, not copied. What is read in full is a stretch without any cut character that is not
    /// such a run (say, megabytes of accented letters with no space or punctuation), and a text with fewer ids than
    /// asked for.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is negative.</exception>
    public IReadOnlyList<int> WordPieceIds(string text, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        var ids = new List<int>(Math.Min(maxCount, 256) + 8);
        var words = new List<string>();
        var lines = new TextCuts.LineRule(text);
        var fixedText = new StringBuilder();
        int target = FirstPieceLength;
        for (int pos = 0; pos < text.Length && ids.Count < maxCount; target = Math.Min(2 * target, MaxPieceLength))
        {
            // The piece ends after the last cut character within target characters, or, when there is none, after the
            // first one beyond.
            int end = text.Length;
            if (text.Length - pos > target)
            {
                int last = text.AsSpan(pos, target).LastIndexOfAny(TextCuts.Chars);
                if (last >= 0) end = pos + last + 1;
                else
                {
                    int next = text.AsSpan(pos + target).IndexOfAny(TextCuts.Chars);
                    int cut = next < 0 ? text.Length : pos + target + next;
                    if (!text.AsSpan(pos, cut - pos).ContainsAnyExcept(TextCuts.AsciiLettersAndDigits))
                    {
                        // At least target (> 100) ASCII letters and digits after a cut and before one (or the end): one
                        // word that nothing in the pipeline changes but the case, so one [UNK], and the run is never
                        // copied. The cut character starts the next piece.
                        ids.Add(_vocabulary.UnknownId);
                        pos = cut;
                        continue;
                    }
                    if (next >= 0) end = cut + 1;
                }
            }
            fixedText.Clear();
            for (int start = pos; start < end;)
            {
                int newline = text.IndexOf('\n', start, end - start);
                int lineEnd = newline < 0 ? end : newline + 1;
                fixedText.Append(TextFixer.FixLinePart(text[start..lineEnd], lines.UnescapeHtml(start, lineEnd)));
                start = lineEnd;
            }
            AppendCleaned(TextCleaner.CleanFixed(fixedText.ToString()), words, ids);
            pos = end;
        }
        if (ids.Count > maxCount) ids.RemoveRange(maxCount, ids.Count - maxCount);
        return ids;
    }

    /// <summary>Turns ids back into text: tokens joined by spaces, "##" pieces glued to the previous token.</summary>
    /// <param name="ids">Ids, for example a row of <see cref="Encode"/>.</param>
    /// <param name="skipSpecialTokens">Drop [PAD], [bos], [eos], [CLS] and the added special tokens, [UNK] included
    /// (as Hugging Face's <c>skip_special_tokens</c>).</param>
    /// <remarks>Lower-casing, accent stripping and the split around punctuation are not undone.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IEnumerable<long> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        foreach (long id in ids)
        {
            if (id < 0 || id >= _vocabulary.Count)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"id outside the vocabulary of {_vocabulary.Count} tokens");
            if (skipSpecialTokens && _specialIds.Contains((int)id)) continue;
            string token = _vocabulary.Token((int)id);
            if (token.Length > 2 && token.StartsWith("##", StringComparison.Ordinal) && sb.Length > 0) sb.Append(token, 2, token.Length - 2);
            else (sb.Length > 0 ? sb.Append(' ') : sb).Append(token);
        }
        return sb.ToString();
    }

    private void Fill(IReadOnlyList<int> pieces, long[] ids)
    {
        // CustomTokenizer: [bos] + pieces[:ctx-3] + [eos], zero-padded to ctx-1, then [CLS].
        int kept = Math.Min(pieces.Count, ContextLength - 3);
        Array.Clear(ids);
        ids[0] = BosId;
        for (int i = 0; i < kept; i++) ids[i + 1] = pieces[i];
        ids[kept + 1] = EosId;
        ids[^1] = ClassId;
    }

    // Cleaned text: the added special tokens cut out, the rest normalized, pre-tokenized and split into word pieces.
    private void AppendCleaned(string cleaned, List<string> words, List<int> ids)
    {
        int pos = 0;
        while (pos < cleaned.Length)
        {
            (int at, int specialId, int length) = NextSpecialToken(cleaned, pos);
            TokenizeSegment(cleaned[pos..at], words, ids);
            if (at == cleaned.Length) break;
            ids.Add(specialId);
            pos = at + length;
        }
    }

    private void TokenizeSegment(string segment, List<string> words, List<int> ids)
    {
        if (segment.Length == 0) return;
        words.Clear();
        BertNormalizer.PreTokenize(BertNormalizer.Normalize(segment), words);
        foreach (string word in words) _vocabulary.Tokenize(word, ids);
    }

    // The leftmost added special token at or after pos: (index, id, length), or (text.Length, -1, 0) if none.
    private (int At, int Id, int Length) NextSpecialToken(string text, int pos)
    {
        for (int at = text.IndexOf('[', pos); at >= 0; at = text.IndexOf('[', at + 1))
            foreach (var (token, id) in _specialTokens)
                if (text.AsSpan(at).StartsWith(token, StringComparison.Ordinal)) return (at, id, token.Length);
        return (text.Length, -1, 0);
    }

    /// <summary>Opens the embedded OpenVision vocabulary (<c>vocab.txt</c> format: one token per line, id = line index),
    /// for writing it beside exported models; <see cref="FromVocabFile"/> reads such a copy back.</summary>
    public static Stream OpenDefaultVocabulary() =>
        typeof(OpenVisionTokenizer).Assembly.GetManifestResourceStream(EmbeddedVocabulary)
            ?? throw new InvalidOperationException($"embedded resource {EmbeddedVocabulary} is missing from the OpenVision assembly");

    private static WordPiece ReadEmbeddedVocabulary()
    {
        using var stream = OpenDefaultVocabulary();
        return WordPiece.Read(stream, EmbeddedVocabulary, ClassId + 1);
    }
}
