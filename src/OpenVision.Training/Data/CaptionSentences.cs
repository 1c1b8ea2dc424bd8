using System.Text.RegularExpressions;

namespace OpenVision.Training.Data;

/// <summary>Splits a synthetic caption into sentences the way OpenVision picks its sub-caption (CLIPS's partial
/// caption): split on the regex <c>[\.\!]+</c>, drop the empty parts, choose one uniformly.</summary>
public static partial class CaptionSentences
{
    /// <summary>The sentences of <paramref name="caption"/>, trimmed; parts that are empty or only white space are dropped.</summary>
    /// <remarks>The reference drops only empty strings; a part of nothing but spaces (after a final ". ") would
    /// tokenize to [bos][eos], a useless text, so it is dropped as well.</remarks>
    public static IReadOnlyList<string> Split(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return [.. Separator().Split(caption).Select(s => s.Trim()).Where(s => s.Length > 0)];
    }

    /// <summary>One sentence chosen uniformly with <paramref name="random"/>; the whole (trimmed) caption when no part is left.</summary>
    public static string Pick(string caption, DataRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var sentences = Split(caption);
        return sentences.Count switch
        {
            0 => caption.Trim(),
            1 => sentences[0],
            _ => sentences[random.NextInt(sentences.Count)],
        };
    }

    [GeneratedRegex(@"[\.\!]+")]
    private static partial Regex Separator();
}
