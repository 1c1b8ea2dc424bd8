using OpenVision.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Losses;

public class ContrastiveLossTests
{
    private static Tensor Matrix(double[,] values) => torch.tensor(values, ScalarType.Float64);

    private static double Value(Tensor t) => t.to(ScalarType.Float64).item<double>();

    [Fact]
    public void NormalizeDividesByNormPlusEpsilon()
    {
        using var scope = NewDisposeScope();
        var z = Normalized(Matrix(new double[,] { { 3, 4 }, { 0, 0 } }));
        Assert.Equal(3 / (5 + 1e-8), z[0, 0].item<double>(), 15);
        Assert.Equal(4 / (5 + 1e-8), z[0, 1].item<double>(), 15);
        Assert.Equal(0.0, z[1, 0].item<double>());                    // a zero vector stays zero, no NaN
    }

    private static Tensor Normalized(Tensor t) => ContrastiveLoss.Normalize(t);

    // Identity features, t = 1: every CE is −log(e / (e + 1)) = log(1 + e⁻¹).
    [Fact]
    public void TwoByTwoIdentity()
    {
        using var scope = NewDisposeScope();
        var eye = Matrix(new double[,] { { 1, 0 }, { 0, 1 } });
        var loss = ContrastiveLoss.Compute(eye, [eye, eye], torch.tensor(1.0, ScalarType.Float64));
        Assert.Equal(Math.Log(1 + Math.Exp(-1)), Value(loss), 14);
    }

    // image = I, text = [[1, 0], [0.6, 0.8]], t = 1. logits_i→t = [[1, 0.6], [0, 0.8]], logits_t→i its transpose:
    // CE_i→t = log(1 + e^−0.4), log(1 + e^−0.8); CE_t→i = log(1 + e^−1), log(1 + e^−0.2).
    [Fact]
    public void TwoByTwoWorkedByHand()
    {
        using var scope = NewDisposeScope();
        var image = Matrix(new double[,] { { 1, 0 }, { 0, 1 } });
        var text = Matrix(new double[,] { { 1, 0 }, { 0.6, 0.8 } });
        double l(double x) => Math.Log(1 + Math.Exp(-x));
        double oneSet = 0.5 * ((l(0.4) + l(0.8)) / 2 + (l(1.0) + l(0.2)) / 2);
        Assert.Equal(oneSet, Value(ContrastiveLoss.Compute(image, [text], torch.tensor(1.0, ScalarType.Float64))), 14);
        // Two text sets: the mean of the per-set losses (the identity set gives log(1 + e⁻¹)).
        double twoSets = (oneSet + l(1.0)) / 2;
        Assert.Equal(twoSets, Value(ContrastiveLoss.Compute(image, [text, image], torch.tensor(1.0, ScalarType.Float64))), 14);
    }

    [Fact]
    public void PerfectAlignmentWithLargeScaleIsNearZero()
    {
        using var scope = NewDisposeScope();
        var eye = torch.eye(4, dtype: ScalarType.Float64);
        var loss = ContrastiveLoss.Compute(eye, [eye, eye], torch.tensor(100.0, ScalarType.Float64));
        Assert.InRange(Value(loss), 0, 1e-40);                            // log(1 + 3e⁻¹⁰⁰)
        // Swapping two texts makes those pairs maximally wrong: the loss is then about t = 100 for half the rows.
        var swapped = eye.index_select(0, torch.tensor(new long[] { 1, 0, 2, 3 }));
        Assert.Equal(50.0, Value(ContrastiveLoss.Compute(eye, [swapped], torch.tensor(100.0, ScalarType.Float64))), 6);
    }

    [Fact]
    public void MatchesNaiveFloat64Formula()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(7);
        int n = 5, e = 3;
        var image = ContrastiveLoss.Normalize(torch.randn([n, e], ScalarType.Float64, generator: generator));
        var text1 = ContrastiveLoss.Normalize(torch.randn([n, e], ScalarType.Float64, generator: generator));
        var text2 = ContrastiveLoss.Normalize(torch.randn([n, e], ScalarType.Float64, generator: generator));
        double t = 14.3;
        double expected = (Naive(Rows(image), Rows(text1), t) + Naive(Rows(image), Rows(text2), t)) / 2;
        Assert.Equal(expected, Value(ContrastiveLoss.Compute(image, [text1, text2], torch.tensor(t, ScalarType.Float64))), 12);
    }

    // Data-parallel form: 3 ranks of 2 rows; the mean of the local losses (JAX pmean) is the global loss.
    [Fact]
    public void LocalLossesAverageToTheGlobalLoss()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var image = ContrastiveLoss.Normalize(torch.randn([6, 4], ScalarType.Float64, generator: generator));
        var text1 = ContrastiveLoss.Normalize(torch.randn([6, 4], ScalarType.Float64, generator: generator));
        var text2 = ContrastiveLoss.Normalize(torch.randn([6, 4], ScalarType.Float64, generator: generator));
        var scale = torch.tensor(10.0, ScalarType.Float64);
        double global = Value(ContrastiveLoss.Compute(image, [text1, text2], scale));
        double sum = 0;
        for (int rank = 0; rank < 3; rank++)
        {
            var rows = torch.arange(2 * rank, 2 * rank + 2);
            sum += Value(ContrastiveLoss.Local(image[rows], [text1[rows], text2[rows]], image, [text1, text2], scale, rankOffset: 2 * rank));
        }
        Assert.Equal(global, sum / 3, 13);
        // The local loss of one rank is not the loss of its rows alone: columns are global.
        var first = torch.arange(0, 2);
        Assert.NotEqual(Value(ContrastiveLoss.Compute(image[first], [text1[first], text2[first]], scale)),
            Value(ContrastiveLoss.Local(image[first], [text1[first], text2[first]], image, [text1, text2], scale, 0)), 6);
    }

    [Fact]
    public void BadShapesAndOffsetsAreRejected()
    {
        using var scope = NewDisposeScope();
        var a = torch.zeros(4, 3);
        var scale = torch.tensor(1.0f);
        Assert.Throws<ArgumentOutOfRangeException>(() => ContrastiveLoss.Local(a[..2], a[..2], a, a, scale, rankOffset: 3));
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Compute(a, [torch.zeros(3, 3)], scale));
        Assert.Throws<ArgumentException>(() => ContrastiveLoss.Compute(a, [], scale));
    }

    [Fact]
    public void GradientReachesTheScale()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var image = ContrastiveLoss.Normalize(torch.randn([3, 2], ScalarType.Float64, generator: generator));
        var text = ContrastiveLoss.Normalize(torch.randn([3, 2], ScalarType.Float64, generator: generator));
        var logScale = torch.tensor(1.5, ScalarType.Float64).requires_grad_();
        ContrastiveLoss.Compute(image, [text], logScale.exp()).backward();
        Assert.True(Math.Abs(logScale.grad!.item<double>()) > 1e-6);
    }

    private static double[][] Rows(Tensor t)
    {
        var flat = t.data<double>().ToArray();
        int cols = (int)t.shape[1];
        return [.. Enumerable.Range(0, (int)t.shape[0]).Select(r => flat[(r * cols)..((r + 1) * cols)])];
    }

    // ½ · mean_i [ −log softmax_j(t·xᵢ·yⱼ)ᵢ − log softmax_j(t·yᵢ·xⱼ)ᵢ ], with explicit loops.
    private static double Naive(double[][] image, double[][] text, double t)
    {
        int n = image.Length;
        double Dot(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).Sum();
        double Nll(double[][] rows, double[][] cols, int i)
        {
            var logits = cols.Select(c => t * Dot(rows[i], c)).ToArray();
            double max = logits.Max();
            return max + Math.Log(logits.Sum(l => Math.Exp(l - max))) - logits[i];
        }
        double total = 0;
        for (int i = 0; i < n; i++) total += 0.5 * (Nll(image, text, i) + Nll(text, image, i));
        return total / n;
    }
}
