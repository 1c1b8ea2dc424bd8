using OpenVision.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

// The caption-only loss against a value computed here by explicit loops over the model's weights: gathering the kept
// tokens, the projection, two pre-LN blocks (causal over [image; caption[:-1]], tanh GELU, LayerNorm eps 1e-6), the
// final norm and head, and the masked token mean of caption[1:]. Only the vision tower's patch tokens come from the
// library (its parity with the Python reference is tested in OpenVision.Tests).
public class CaptioningLossTests
{
    [Fact]
    public void LossEqualsTheHandComputedValue()
    {
        using var model = TinyCaptioning.Model(21, ScalarType.Float64);
        using var data = TinyModels.MakeBatch(3, seed: 22, ScalarType.Float64);
        using var kept = torch.tensor(new long[] { 3, 0, 1, 2, 2, 3 }, [3, 2]);
        double actual;
        using (var loss = model.CaptionLoss(data.Pixels, data.Captions, kept)) actual = loss.item<double>();

        double expected = HandComputed(model, data, kept);
        // Both sides are float64 sums of a few hundred terms of size ~1: rounding is below 1e-13.
        Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Abs(expected), $"library {actual:R}, by hand {expected:R}");

        // Negative control: the same loops with every image token kept in natural order give a different value, so the
        // comparison sees which tokens were read and in what order.
        using var reordered = torch.tensor(new long[] { 0, 3, 1, 2, 3, 2 }, [3, 2]);
        Assert.True(Math.Abs(HandComputed(model, data, reordered) - expected) > 1e-6, "token order did not change the loss");
    }

    private static double HandComputed(CaptioningTrainingModel model, TinyModels.Batch data, Tensor keptIndices)
    {
        var p = model.Decoder.named_parameters().ToDictionary(x => x.name, x => Matrix(x.parameter));
        double[,] tokens;
        double total = 0;
        int count = 0;
        var config = model.Decoder.Config;
        long[,] ids = ToLongs(data.Captions), kept = ToLongs(keptIndices);
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            var vision = model.Clip.Visual.Forward(data.Pixels, new HashSet<int>());
            for (int b = 0; b < ids.GetLength(0); b++)
            {
                using var imageTokens = vision.Tokens[b];
                tokens = Matrix(imageTokens);                                         // [N, Wv]
                int k = kept.GetLength(1), t = ids.GetLength(1) - 1, length = k + t, w = config.Width;
                var x = new double[length, w];
                for (int i = 0; i < k; i++)                                          // projected kept tokens
                    for (int o = 0; o < w; o++)
                        for (int c = 0; c < config.VisionWidth; c++) x[i, o] += p["image_projection.weight"][o, c] * tokens[kept[b, i], c];
                for (int i = 0; i < t; i++)                                          // embedded caption[:, :-1]
                    for (int o = 0; o < w; o++) x[k + i, o] = p["token_embedding.weight"][ids[b, i], o];
                for (int layer = 0; layer < config.Depth; layer++) x = Block(x, p, $"blocks.{layer}.", config.NumHeads);
                for (int i = 0; i < t; i++)
                {
                    long target = ids[b, i + 1];
                    if (target == 0) continue;                                       // pads are masked
                    var h = LayerNorm(Row(x, k + i), p["ln_final.weight"], p["ln_final.bias"]);
                    var logits = Enumerable.Range(0, config.VocabSize).Select(v => Dot(Row(p["lm_head.weight"], v), h)).ToArray();
                    double max = logits.Max();
                    double logSum = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
                    total += logSum - logits[target];
                    count++;
                }
            }
        }
        return total / (count + 1e-8);
    }

    private static double[,] Block(double[,] x, Dictionary<string, double[,]> p, string prefix, int heads)
    {
        int length = x.GetLength(0), w = x.GetLength(1), d = w / heads;
        var inW = p[prefix + "attn.in_proj_weight"];
        var inB = p[prefix + "attn.in_proj_bias"];
        var h = new double[length][];
        for (int i = 0; i < length; i++) h[i] = LayerNorm(Row(x, i), p[prefix + "ln_1.weight"], p[prefix + "ln_1.bias"]);
        var qkv = h.Select(r => Enumerable.Range(0, 3 * w).Select(o => Dot(Row(inW, o), r) + inB[0, o]).ToArray()).ToArray();
        var attended = new double[length, w];
        for (int head = 0; head < heads; head++)
            for (int i = 0; i < length; i++)
            {
                var scores = new double[i + 1];                                      // causal: positions 0..i
                for (int j = 0; j <= i; j++)
                    for (int c = 0; c < d; c++) scores[j] += qkv[i][head * d + c] * qkv[j][w + head * d + c] / Math.Sqrt(d);
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int j = 0; j <= i; j++)
                    for (int c = 0; c < d; c++) attended[i, head * d + c] += Math.Exp(scores[j] - max) / sum * qkv[j][2 * w + head * d + c];
            }
        var outW = p[prefix + "attn.out_proj.weight"];
        var y = new double[length, w];
        for (int i = 0; i < length; i++)
            for (int o = 0; o < w; o++) y[i, o] = x[i, o] + Dot(Row(outW, o), Row(attended, i)) + p[prefix + "attn.out_proj.bias"][0, o];
        var fcW = p[prefix + "mlp.c_fc.weight"];
        var projW = p[prefix + "mlp.c_proj.weight"];
        var result = new double[length, w];
        for (int i = 0; i < length; i++)
        {
            var n = LayerNorm(Row(y, i), p[prefix + "ln_2.weight"], p[prefix + "ln_2.bias"]);
            var hidden = Enumerable.Range(0, fcW.GetLength(0)).Select(o => Gelu(Dot(Row(fcW, o), n) + p[prefix + "mlp.c_fc.bias"][0, o])).ToArray();
            for (int o = 0; o < w; o++) result[i, o] = y[i, o] + Dot(Row(projW, o), hidden) + p[prefix + "mlp.c_proj.bias"][0, o];
        }
        return result;
    }

    private static double Gelu(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

    private static double[] LayerNorm(double[] v, double[,] scale, double[,] bias)
    {
        double mean = v.Average(), variance = v.Select(a => (a - mean) * (a - mean)).Average();
        return v.Select((a, i) => (a - mean) / Math.Sqrt(variance + 1e-6) * scale[0, i] + bias[0, i]).ToArray();
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).Sum();

    private static double[] Row(double[,] m, long row) => Enumerable.Range(0, m.GetLength(1)).Select(c => m[row, c]).ToArray();

    // A parameter as a matrix: vectors become one row.
    private static double[,] Matrix(Tensor t)
    {
        using var d = t.detach().to(ScalarType.Float64).contiguous();
        var flat = d.data<double>().ToArray();
        int rows = d.ndim == 2 ? (int)d.shape[0] : 1, cols = flat.Length / rows;
        var m = new double[rows, cols];
        for (int i = 0; i < flat.Length; i++) m[i / cols, i % cols] = flat[i];
        return m;
    }

    private static long[,] ToLongs(Tensor t)
    {
        var flat = t.data<long>().ToArray();
        int rows = (int)t.shape[0], cols = (int)t.shape[1];
        var m = new long[rows, cols];
        for (int i = 0; i < flat.Length; i++) m[i / cols, i % cols] = flat[i];
        return m;
    }
}
