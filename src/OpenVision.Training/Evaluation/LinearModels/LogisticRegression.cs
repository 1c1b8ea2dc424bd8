using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation.LinearModels;

/// <summary>Multinomial logistic regression fitted full-batch with <see cref="Lbfgs"/>: minimises
/// mean cross-entropy + (λ/2)·‖W‖² (the bias is not penalised, as in scikit-learn's lbfgs solver). scikit-learn's
/// <c>C</c> corresponds to λ = 1 / (C · N). The objective is strictly convex in W, so the fit is the unique optimum
/// whatever the starting point.</summary>
public sealed class LogisticRegression : IDisposable
{
    private LogisticRegression(Tensor weight, Tensor bias, double l2, LbfgsResult fit)
    {
        Weight = weight;
        Bias = bias;
        L2 = l2;
        Iterations = fit.Iterations;
        Converged = fit.Converged;
        Objective = fit.Objective;
    }

    /// <summary>Weights [E, C]; the model owns them.</summary>
    public Tensor Weight { get; }

    /// <summary>Biases [C]; the model owns them.</summary>
    public Tensor Bias { get; }

    /// <summary>The λ it was fitted with.</summary>
    public double L2 { get; }

    /// <summary>L-BFGS iterations the fit took.</summary>
    public int Iterations { get; }

    /// <summary>True when the fit met a tolerance before the iteration limit.</summary>
    public bool Converged { get; }

    /// <summary>The objective at the solution.</summary>
    public double Objective { get; }

    /// <summary>Fits the model.</summary>
    /// <param name="features">[N, E] floating-point features (their dtype and device are used throughout).</param>
    /// <param name="labels">[N] int64 class indices.</param>
    /// <param name="classCount">Number of classes C.</param>
    /// <param name="l2">λ ≥ 0.</param>
    /// <param name="options">L-BFGS settings.</param>
    /// <param name="warmStart">A fit to start from (e.g. the previous λ of a sweep); null starts at zero.</param>
    public static LogisticRegression Fit(Tensor features, Tensor labels, int classCount, double l2, LbfgsOptions? options = null, LogisticRegression? warmStart = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.ndim != 2 || labels.ndim != 1 || labels.shape[0] != features.shape[0])
            throw new ArgumentException($"features [N, E] and labels [N] expected, got [{string.Join(", ", features.shape)}] and [{string.Join(", ", labels.shape)}]");
        if (features.shape[0] == 0) throw new ArgumentException("no training samples");
        if (l2 < 0 || !double.IsFinite(l2)) throw new ArgumentOutOfRangeException(nameof(l2), "λ must be finite and non-negative");
        long dim = features.shape[1];
        using var scope = torch.NewDisposeScope();
        var x = features.detach();
        var y = labels.to(ScalarType.Int64, x.device);
        var oneHot = nn.functional.one_hot(y, classCount).to(x.dtype);   // [N, C]
        // Numbers go to TorchSharp as Scalars alive for the whole fit, never as its temporaries (see Native.KeptScalars).
        using var perSample = ((double)x.shape[0]).ToScalar();
        using var penalty = l2.ToScalar();

        (double, Tensor) Objective(Tensor theta)
        {
            using var inner = torch.NewDisposeScope();
            var w = theta.narrow(0, 0, dim * classCount).view(dim, classCount);
            var b = theta.narrow(0, dim * classCount, classCount);
            var logits = x.matmul(w).add(b, KeptScalars.One);               // [N, C]
            var logNormaliser = logits.logsumexp(1);                        // [N]
            var crossEntropy = (logNormaliser - (logits * oneHot).sum(1)).mean();
            double value = KeptScalars.ValueOf(crossEntropy) + 0.5 * l2 * KeptScalars.ValueOf(w.pow(KeptScalars.Two).sum());
            // ∂/∂logits of the mean cross-entropy: (softmax − one-hot) / N.
            var residual = ((logits - logNormaliser.unsqueeze(1)).exp() - oneHot).div(perSample);
            // (residualᵀ·x)ᵀ rather than xᵀ·residual: BLAS runs the tall-skinny product about twice as fast this way round.
            var gradW = residual.T.matmul(x).T.add(w.mul(penalty), KeptScalars.One);   // [E, C]
            var gradB = residual.sum(dim: 0);                                   // [C]
            return (value, torch.cat([gradW.flatten(), gradB]).MoveToOuterDisposeScope());
        }

        var start = warmStart is null
            ? torch.zeros(dim * classCount + classCount, dtype: x.dtype, device: x.device)
            : torch.cat([warmStart.Weight.flatten(), warmStart.Bias]).to(x.dtype, x.device);
        var fit = Lbfgs.Minimize(Objective, start, options);
        using var solution = fit.Solution;
        var weight = solution.narrow(0, 0, dim * classCount).view(dim, classCount).clone().MoveToOuterDisposeScope();
        var bias = solution.narrow(0, dim * classCount, classCount).clone().MoveToOuterDisposeScope();
        return new LogisticRegression(weight, bias, l2, fit);
    }

    /// <summary>Logits [N, C] for features [N, E].</summary>
    public Tensor Logits(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        return features.to(Weight.dtype, Weight.device).matmul(Weight).add(Bias, KeptScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>Mean cross-entropy (without the penalty) of the model on labelled features.</summary>
    public double CrossEntropy(Tensor features, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        return KeptScalars.ValueOf(nn.functional.cross_entropy(Logits(features), labels.to(ScalarType.Int64, Weight.device)));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}
