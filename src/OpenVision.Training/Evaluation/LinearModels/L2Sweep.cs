using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation.LinearModels;

/// <summary>One point of an L2 sweep.</summary>
/// <param name="L2">λ.</param>
/// <param name="ValidationAccuracy">Top-1 accuracy on the validation split.</param>
/// <param name="ValidationLoss">Mean cross-entropy on the validation split.</param>
/// <param name="Iterations">L-BFGS iterations of the fit.</param>
/// <param name="Converged">Whether the fit converged.</param>
public sealed record L2SweepPoint(double L2, double ValidationAccuracy, double ValidationLoss, int Iterations, bool Converged);

/// <summary>Chooses λ on a validation split, as CLIP's linear probes do: fit at every grid value, keep the best
/// validation accuracy; ties go to the lower validation loss, then to the larger λ.</summary>
public static class L2Sweep
{
    /// <summary>Log-spaced values from 10^<paramref name="fromExponent"/> to 10^<paramref name="toExponent"/>.</summary>
    public static double[] LogGrid(double fromExponent = -6, double toExponent = 2, int count = 9)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return count == 1 ? [Math.Pow(10, fromExponent)]
            : Enumerable.Range(0, count).Select(i => Math.Pow(10, fromExponent + (toExponent - fromExponent) * i / (count - 1))).ToArray();
    }

    /// <summary>Runs the sweep; returns the chosen λ and every point (strongest λ first, the order of the fits,
    /// each warm-started from the previous one).</summary>
    public static (double Best, IReadOnlyList<L2SweepPoint> Points) Run(Tensor trainFeatures, Tensor trainLabels, Tensor validationFeatures,
        Tensor validationLabels, int classCount, IReadOnlyList<double> grid, LbfgsOptions? options = null, IProgress<int>? progress = null)
    {
        if (grid is not { Count: > 0 }) throw new ArgumentException("the L2 grid is empty", nameof(grid));
        var points = new List<L2SweepPoint>();
        LogisticRegression? previous = null;
        try
        {
            foreach (double l2 in grid.Distinct().OrderDescending())
            {
                var model = LogisticRegression.Fit(trainFeatures, trainLabels, classCount, l2, options, previous);
                previous?.Dispose();
                previous = model;
                points.Add(new L2SweepPoint(l2, Accuracy(model, validationFeatures, validationLabels),
                    model.CrossEntropy(validationFeatures, validationLabels), model.Iterations, model.Converged));
                progress?.Report(points.Count);
            }
        }
        finally
        {
            previous?.Dispose();
        }
        var best = points.OrderByDescending(p => p.ValidationAccuracy).ThenBy(p => p.ValidationLoss).ThenByDescending(p => p.L2).First();
        return (best.L2, points);
    }

    /// <summary>Top-1 accuracy of <paramref name="model"/> on labelled features.</summary>
    public static double Accuracy(LogisticRegression model, Tensor features, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var predicted = model.Logits(features).argmax(1);
        return predicted.eq(labels.to(predicted.device)).sum().item<long>() / (double)labels.shape[0];
    }
}
