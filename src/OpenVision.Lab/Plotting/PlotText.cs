using SkiaSharp;

namespace OpenVision.Lab.Plotting;

/// <summary>Where a text is anchored horizontally.</summary>
internal enum TextAnchor { Left, Center, Right }

/// <summary>Draws labels at a pixel size: with the platform's default typeface when SkiaSharp has one, otherwise
/// with <see cref="BitmapFont"/> (the Linux NoDependencies build has no fonts at all), so text always shows.</summary>
internal sealed class PlotText : IDisposable
{
    private static readonly Lazy<bool> HasTypeface = new(() => SKTypeface.Default is { GlyphCount: > 0 });
    private readonly SKFont? font;
    private readonly float scale;

    /// <summary>Text about <paramref name="pixelSize"/> pixels tall; <paramref name="forceBitmap"/> gives identical
    /// output on every platform.</summary>
    public PlotText(float pixelSize, bool forceBitmap = false)
    {
        if (HasTypeface.Value && !forceBitmap) font = new SKFont(SKTypeface.Default, pixelSize) { Subpixel = true, Edging = SKFontEdging.Antialias };
        scale = Math.Max(1, MathF.Round(pixelSize / BitmapFont.CellHeight));
    }

    /// <summary>Line height in pixels (ascent to descent).</summary>
    public float Height => font is null ? BitmapFont.CellHeight * scale : font.Size * 1.2f;

    /// <summary>Advance width of <paramref name="text"/> in pixels.</summary>
    public float Measure(string text) => font?.MeasureText(text) ?? BitmapFont.Default.Measure(text, scale);

    /// <summary>Draws <paramref name="text"/> with its box's top at <paramref name="top"/>, anchored at <paramref name="x"/>.</summary>
    public void Draw(SKCanvas canvas, string text, float x, float top, SKColor color, TextAnchor anchor = TextAnchor.Left)
    {
        float left = anchor switch { TextAnchor.Center => x - Measure(text) / 2, TextAnchor.Right => x - Measure(text), _ => x };
        using var paint = new SKPaint { Color = color, IsAntialias = font is not null, Style = SKPaintStyle.Fill };
        if (font is null) BitmapFont.Default.Draw(canvas, text, MathF.Round(left), MathF.Round(top), scale, paint);
        else canvas.DrawText(text, left, top - font.Metrics.Ascent, SKTextAlign.Left, font, paint);
    }

    /// <summary>Draws <paramref name="text"/> rotated a quarter turn counter-clockwise (reading upwards); (x, y) is
    /// the anchor on the text's baseline-to-top centre line, <paramref name="anchor"/> along the reading direction.</summary>
    public void DrawVertical(SKCanvas canvas, string text, float x, float y, SKColor color, TextAnchor anchor = TextAnchor.Left)
    {
        canvas.Save();
        canvas.Translate(x, y);
        canvas.RotateDegrees(-90);
        Draw(canvas, text, 0, -Height / 2, color, anchor);
        canvas.Restore();
    }

    /// <summary>Shortens <paramref name="text"/> with ".." so it fits in <paramref name="width"/> pixels.</summary>
    public string Fit(string text, float width)
    {
        if (Measure(text) <= width) return text;
        for (int length = text.Length - 1; length > 0; length--)
        {
            string candidate = text[..length] + "..";
            if (Measure(candidate) <= width) return candidate;
        }
        return "";
    }

    /// <inheritdoc/>
    public void Dispose() => font?.Dispose();
}
