using System.Text;

namespace OpenVision.Text;

/// <summary><see cref="string.Normalize(NormalizationForm)"/> that accepts every string Python and Rust accept.</summary>
internal static class UnicodeNormalizer
{
    /// <summary>Normalizes <paramref name="text"/>; lone surrogates must already be gone.</summary>
    /// <remarks>.NET on ICU throws for U+FFFE. A noncharacter neither decomposes nor composes (combining class 0,
    /// no mapping), so normalizing the pieces between them and joining them again is what Python computes.</remarks>
    public static string Normalize(string text, NormalizationForm form)
    {
        if (!text.Contains('\uFFFE')) return text.IsNormalized(form) ? text : text.Normalize(form);
        string[] pieces = text.Split('\uFFFE');
        for (int i = 0; i < pieces.Length; i++) pieces[i] = pieces[i].Normalize(form);
        return string.Join('\uFFFE', pieces);
    }
}
