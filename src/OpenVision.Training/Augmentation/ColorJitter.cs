using OpenVision.Training.Data;

namespace OpenVision.Training.Augmentation;

/// <summary>SimCLR's colour distortion on interleaved RGB floats in [0, 1]: brightness, contrast, saturation and hue
/// in a random order (applied with probability p), then random grayscale.</summary>
/// <remarks>The operations follow torchvision's ColorJitter, whose formulas are short and documented: brightness
/// scales, contrast blends with the image's mean grey, saturation blends with each pixel's grey, hue rotates H in HSV;
/// results are clamped to [0, 1] after every step. SimCLR's TF code differs in details (e.g. its saturation works in
/// HSV); exactness to TF is not a goal. Grey is ITU-R 601 luma (0.299, 0.587, 0.114), as both use.</remarks>
public static class ColorJitter
{
    private enum Op { Brightness, Contrast, Saturation, Hue }

    /// <summary>Applies the random distortion to <paramref name="rgb"/> (interleaved R, G, B) in place.</summary>
    /// <returns>A short description of what was applied, e.g. "jitter+gray", for tests and debugging.</returns>
    public static string Apply(Span<float> rgb, AugmentationOptions options, DataRandom random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        if (rgb.Length % 3 != 0) throw new ArgumentException("interleaved RGB needs a multiple of 3 values", nameof(rgb));
        // Draws happen in a fixed sequence whatever is applied, so one sample's choices never shift another's.
        bool jitter = random.NextBool(options.JitterProbability);
        Op[] order = [Op.Brightness, Op.Contrast, Op.Saturation, Op.Hue];
        random.Shuffle(order);
        float brightness = (float)random.NextDouble(1 - options.Brightness, 1 + options.Brightness);
        float contrast = (float)random.NextDouble(1 - options.Contrast, 1 + options.Contrast);
        float saturation = (float)random.NextDouble(1 - options.Saturation, 1 + options.Saturation);
        float hue = (float)random.NextDouble(-options.Hue, options.Hue);
        bool gray = random.NextBool(options.GrayscaleProbability);
        if (jitter)
        {
            foreach (var op in order)
            {
                switch (op)
                {
                    case Op.Brightness: Scale(rgb, brightness); break;
                    case Op.Contrast: AdjustContrast(rgb, contrast); break;
                    case Op.Saturation: AdjustSaturation(rgb, saturation); break;
                    case Op.Hue: ShiftHue(rgb, hue); break;
                }
            }
        }
        if (gray) Grayscale(rgb);
        return (jitter, gray) switch { (true, true) => "jitter+gray", (true, false) => "jitter", (false, true) => "gray", _ => "none" };
    }

    /// <summary>Multiplies every value by <paramref name="factor"/>, clamped.</summary>
    public static void Scale(Span<float> rgb, float factor)
    {
        for (int i = 0; i < rgb.Length; i++) rgb[i] = Math.Clamp(rgb[i] * factor, 0f, 1f);
    }

    /// <summary>Blends with the mean grey of the whole image: mean + factor · (x − mean), clamped.</summary>
    public static void AdjustContrast(Span<float> rgb, float factor)
    {
        double sum = 0;
        for (int i = 0; i < rgb.Length; i += 3) sum += Luma(rgb[i], rgb[i + 1], rgb[i + 2]);
        float mean = (float)(sum / (rgb.Length / 3));
        for (int i = 0; i < rgb.Length; i++) rgb[i] = Math.Clamp(mean + factor * (rgb[i] - mean), 0f, 1f);
    }

    /// <summary>Blends each pixel with its own grey: grey + factor · (x − grey), clamped.</summary>
    public static void AdjustSaturation(Span<float> rgb, float factor)
    {
        for (int i = 0; i < rgb.Length; i += 3)
        {
            float g = Luma(rgb[i], rgb[i + 1], rgb[i + 2]);
            for (int c = 0; c < 3; c++) rgb[i + c] = Math.Clamp(g + factor * (rgb[i + c] - g), 0f, 1f);
        }
    }

    /// <summary>Rotates the hue by <paramref name="shift"/> turns (RGB → HSV, H + shift mod 1, → RGB).</summary>
    public static void ShiftHue(Span<float> rgb, float shift)
    {
        if (shift == 0) return;
        for (int i = 0; i < rgb.Length; i += 3)
        {
            float r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
            float max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), chroma = max - min;
            if (chroma <= 0) continue; // grey pixels have no hue to move
            float h = max == r ? (g - b) / chroma : max == g ? 2 + (b - r) / chroma : 4 + (r - g) / chroma;
            h = h / 6f + shift;
            h -= MathF.Floor(h);
            float s = chroma / max, v = max;
            // HSV → RGB: f(n) = v − v·s·max(0, min(k, 4 − k, 1)), k = (n + 6h) mod 6.
            rgb[i] = HsvChannel(5, h, s, v);
            rgb[i + 1] = HsvChannel(3, h, s, v);
            rgb[i + 2] = HsvChannel(1, h, s, v);
        }
    }

    /// <summary>Replaces every pixel with its grey value in all three channels.</summary>
    public static void Grayscale(Span<float> rgb)
    {
        for (int i = 0; i < rgb.Length; i += 3)
        {
            float g = Luma(rgb[i], rgb[i + 1], rgb[i + 2]);
            rgb[i] = rgb[i + 1] = rgb[i + 2] = g;
        }
    }

    private static float Luma(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    private static float HsvChannel(int n, float h, float s, float v)
    {
        float k = (n + 6 * h) % 6;
        return Math.Clamp(v - v * s * Math.Max(0, Math.Min(Math.Min(k, 4 - k), 1)), 0f, 1f);
    }
}
