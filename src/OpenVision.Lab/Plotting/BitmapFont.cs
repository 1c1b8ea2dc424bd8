using System.Globalization;
using System.Text;
using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>The project's own 5×8 pixel font for printable ASCII, drawn as filled squares. SkiaSharp's Linux
/// NoDependencies build has no fontconfig and no default typeface, so without this labels would be blank.</summary>
internal sealed class BitmapFont
{
    public const int CellWidth = 5, CellHeight = 8, Advance = CellWidth + 1;

    private static readonly Lazy<BitmapFont> Shared = new(Load);
    private readonly Dictionary<char, bool[,]> glyphs;

    private BitmapFont(Dictionary<char, bool[,]> glyphs) => this.glyphs = glyphs;

    public static BitmapFont Default => Shared.Value;

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/> pixels per font pixel.</summary>
    public float Measure(string text, float scale) => text.Length == 0 ? 0 : (Clean(text).Length * Advance - 1) * scale;

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, top).</summary>
    public void Draw(SKCanvas canvas, string text, float x, float top, float scale, SKPaint paint)
    {
        foreach (char c in Clean(text))
        {
            var glyph = glyphs.TryGetValue(c, out var g) ? g : glyphs['?'];
            for (int row = 0; row < CellHeight; row++)
                for (int column = 0; column < CellWidth; column++)
                    if (glyph[row, column]) canvas.DrawRect(x + column * scale, top + row * scale, scale, scale, paint);
            x += Advance * scale;
        }
    }

    // Accents dropped (é → e) and dashes flattened so common labels stay readable; other characters become '?'.
    private static string Clean(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            builder.Append(c switch
            {
                '–' or '—' or '−' => '-',
                '…' => '.',
                _ when c is >= ' ' and <= '~' => c,
                _ => '?',
            });
        }
        return builder.ToString();
    }

    private static BitmapFont Load()
    {
        using var stream = typeof(BitmapFont).Assembly.GetManifestResourceStream("OpenVision.Lab.Plotting.font5x8.txt")
            ?? throw new InvalidOperationException("the plot font resource is missing");
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')).Where(l => !l.StartsWith("# ", StringComparison.Ordinal)).ToList();
        var glyphs = new Dictionary<char, bool[,]>();
        for (int i = 0; i + CellHeight < lines.Count; i += CellHeight + 1)
        {
            // "char X"; the space glyph's line may have lost its trailing blank to an editor.
            char c = lines[i].Length > 5 ? lines[i][5] : ' ';
            var glyph = new bool[CellHeight, CellWidth];
            for (int row = 0; row < CellHeight; row++)
                for (int column = 0; column < CellWidth; column++) glyph[row, column] = lines[i + 1 + row][column] == '#';
            glyphs[c] = glyph;
        }
        return new BitmapFont(glyphs);
    }
}
