using OpenVision.Text;

namespace OpenVision.Training.Data;

/// <summary>The three token sequences a CLIPS training step needs per image (reference §5.1): the alt-text and one
/// sentence of the synthetic caption in the text encoder's 80-id layout, and the whole caption as the decoder's
/// 128-id target. Without a caption both come from the alt-text.</summary>
/// <remarks>Thread-safe (the tokenizer is immutable).</remarks>
public sealed class TrainingTexts
{
    /// <summary>Ids per decoder target (OpenVision: 128).</summary>
    public const int DefaultCaptionLength = 128;

    /// <summary>Creates the encoder around <paramref name="tokenizer"/> (default: the embedded OpenVision vocabulary, 80 ids).</summary>
    public TrainingTexts(OpenVisionTokenizer? tokenizer = null, int captionLength = DefaultCaptionLength)
    {
        // [bos] and [eos] need two places.
        ArgumentOutOfRangeException.ThrowIfLessThan(captionLength, 2);
        Tokenizer = tokenizer ?? OpenVisionTokenizer.CreateDefault();
        CaptionLength = captionLength;
    }

    /// <summary>The tokenizer of the two encoder texts.</summary>
    public OpenVisionTokenizer Tokenizer { get; }

    /// <summary>Ids per encoder text (the tokenizer's context length, 80).</summary>
    public int TextLength => Tokenizer.ContextLength;

    /// <summary>Ids per decoder target.</summary>
    public int CaptionLength { get; }

    /// <summary>Writes the sample's three sequences into the given rows.</summary>
    /// <param name="altText">The alt-text.</param>
    /// <param name="caption">The synthetic caption, or null.</param>
    /// <param name="random">Chooses the sentence (drawn only when there is a caption).</param>
    /// <param name="altTextIds">Row of <see cref="TextLength"/> ids for the alt-text.</param>
    /// <param name="subCaptionIds">Row of <see cref="TextLength"/> ids for the chosen sentence.</param>
    /// <param name="captionIds">Row of <see cref="CaptionLength"/> ids for the decoder target.</param>
    /// <returns>False when the caption was missing and the alt-text stood in for it.</returns>
    public bool Encode(string altText, string? caption, DataRandom random, Span<long> altTextIds, Span<long> subCaptionIds, Span<long> captionIds)
    {
        ArgumentNullException.ThrowIfNull(altText);
        ArgumentNullException.ThrowIfNull(random);
        bool hasCaption = !string.IsNullOrWhiteSpace(caption);
        Tokenizer.Encode(altText).CopyTo(altTextIds);
        string sentence = hasCaption ? CaptionSentences.Pick(caption!, random) : altText;
        Tokenizer.Encode(sentence).CopyTo(subCaptionIds);
        // CaptionLayout keeps CaptionLength - 2 pieces at most; the tokenizer stops there too.
        CaptionLayout(Tokenizer.WordPieceIds(hasCaption ? caption! : altText, CaptionLength - 2), captionIds[..CaptionLength]);
        return hasCaption;
    }

    /// <summary>The decoder layout: [bos], word pieces, [eos], then 0s; a caption that does not fit is cut to
    /// <c>length − 2</c> pieces so that [eos] is always last (big_vision forces [eos] into the final place).</summary>
    public static void CaptionLayout(IReadOnlyList<int> wordPieceIds, Span<long> destination)
    {
        ArgumentNullException.ThrowIfNull(wordPieceIds);
        if (destination.Length < 2) throw new ArgumentException("the caption row needs at least two places", nameof(destination));
        int kept = Math.Min(wordPieceIds.Count, destination.Length - 2);
        destination.Clear();
        destination[0] = OpenVisionTokenizer.BosId;
        for (int i = 0; i < kept; i++) destination[i + 1] = wordPieceIds[i];
        destination[kept + 1] = OpenVisionTokenizer.EosId;
    }
}
