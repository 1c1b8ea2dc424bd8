namespace OpenVision.Vision;

/// <summary>An approximation of big_vision's <c>resize_small(S, "bilinear", antialias=True)|central_crop(S)</c>:
/// TensorFlow's scale_and_translate with a triangle kernel in float32 (rows first, then columns), cast to uint8
/// by truncation, cropped at ((dim − S) / 2). Summation order and TF's decoders are not reproduced exactly.</summary>
internal static class TfResize
{
    public static void ResizeSmallCenterCrop(ReadOnlySpan<byte> rgb, int width, int height, int size, Span<byte> output)
    {
        // resize_small: ratio in float32, sides rounded half to even.
        float ratio = size / (float)Math.Min(width, height);
        int newHeight = (int)MathF.Round(height * ratio, MidpointRounding.ToEven);
        int newWidth = (int)MathF.Round(width * ratio, MidpointRounding.ToEven);
        int top = (newHeight - size) / 2, left = (newWidth - size) / 2;
        var rows = Spans(height, newHeight, top, size);
        var cols = Spans(width, newWidth, left, size);

        var intermediate = new float[size * width * 3]; // [S rows][width][3]
        for (int y = 0; y < size; y++)
        {
            var (start, weights) = rows[y];
            var outRow = intermediate.AsSpan(y * width * 3, width * 3);
            for (int t = 0; t < weights.Length; t++)
            {
                var inRow = rgb.Slice((start + t) * width * 3, width * 3);
                float w = weights[t];
                for (int i = 0; i < outRow.Length; i++) outRow[i] += inRow[i] * w;
            }
        }
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                var (start, weights) = cols[x];
                float r = 0, g = 0, b = 0;
                for (int t = 0; t < weights.Length; t++)
                {
                    int p = (y * width + start + t) * 3;
                    r += intermediate[p] * weights[t];
                    g += intermediate[p + 1] * weights[t];
                    b += intermediate[p + 2] * weights[t];
                }
                int o = (y * size + x) * 3;
                output[o] = Truncate(r);
                output[o + 1] = Truncate(g);
                output[o + 2] = Truncate(b);
            }
        }
    }

    private static byte Truncate(float v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;

    // scale_and_translate_op.cc ComputeSpansCore for outputs [first, first + count) of an inSize → outSize resize.
    private static (int Start, float[] Weights)[] Spans(int inSize, int outSize, int first, int count)
    {
        float scale = outSize / (float)inSize, invScale = 1.0f / scale;
        float kernelScale = Math.Max(invScale, 1.0f), radius = 1.0f;
        var spans = new (int, float[])[count];
        for (int i = 0; i < count; i++)
        {
            float sample = (first + i + 0.5f) * invScale;
            int start = (int)MathF.Ceiling(sample - radius * kernelScale - 0.5f);
            int end = (int)MathF.Floor(sample + radius * kernelScale - 0.5f);
            start = Math.Clamp(start, 0, inSize - 1);
            end = Math.Clamp(end, 0, inSize - 1) + 1;
            var weights = new float[end - start];
            float total = 0;
            for (int s = start; s < end; s++)
            {
                float w = Math.Max(0f, 1f - Math.Abs((s + 0.5f - sample) / kernelScale));
                weights[s - start] = w;
                total += w;
            }
            if (Math.Abs(total) >= 1000.0f * 1.17549435E-38f) // 1000 × FLT_MIN
            {
                float inv = 1.0f / total;
                for (int k = 0; k < weights.Length; k++) weights[k] *= inv;
            }
            spans[i] = (start, weights);
        }
        return spans;
    }
}
