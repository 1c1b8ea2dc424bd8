using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation.LinearModels;

/// <summary>Stopping rules and memory of <see cref="Lbfgs"/>.</summary>
public sealed record LbfgsOptions
{
    /// <summary>Iterations at most (scikit-learn's LogisticRegression uses 100 by default; CLIP's probes 1,000).</summary>
    public int MaxIterations { get; init; } = 1000;

    /// <summary>Converged when the largest gradient component is at most this.</summary>
    public double GradientTolerance { get; init; } = 1e-7;

    /// <summary>Converged when an iteration lowers the objective by less than this, relative to max(1, |f|).</summary>
    public double ChangeTolerance { get; init; } = 1e-12;

    /// <summary>Correction pairs kept.</summary>
    public int History { get; init; } = 20;
}

/// <summary>How a minimisation ended.</summary>
/// <param name="Solution">The minimiser found; the caller owns it.</param>
/// <param name="Objective">The objective there.</param>
/// <param name="Iterations">Iterations run.</param>
/// <param name="Converged">True when a tolerance, not the iteration limit, stopped it.</param>
public sealed record LbfgsResult(Tensor Solution, double Objective, int Iterations, bool Converged);

/// <summary>Limited-memory BFGS on a flat parameter tensor, with a backtracking (Armijo) line search. TorchSharp's
/// native LBFGS has no line search exposed, which makes a full-batch convex fit fragile; this keeps every vector
/// operation on the tensor engine (any device) and only reads scalars back.</summary>
public static class Lbfgs
{
    private const double Armijo = 1e-4;
    private const int MaxHalvings = 60;

    /// <summary>Minimises <paramref name="objective"/>, which returns f(x) and ∇f(x) (a new tensor the minimiser disposes).</summary>
    /// <param name="objective">f and its gradient at a point.</param>
    /// <param name="start">The starting point (not modified).</param>
    /// <param name="options">Tolerances and history.</param>
    public static LbfgsResult Minimize(Func<Tensor, (double Value, Tensor Gradient)> objective, Tensor start, LbfgsOptions? options = null)
    {
        options ??= new LbfgsOptions();
        var s = new List<Tensor>();
        var y = new List<Tensor>();
        var rho = new List<double>();
        var x = start.detach().clone();
        var (f, g) = objective(x);
        int iteration = 0;
        bool converged = false;
        try
        {
            while (iteration < options.MaxIterations)
            {
                if (MaxAbs(g) <= options.GradientTolerance) { converged = true; break; }
                iteration++;
                using var direction = Direction(g, s, y, rho);
                double slope = Dot(g, direction);
                if (slope >= 0)
                {
                    // Curvature pairs went stale (rounding); restart from steepest descent.
                    Clear(s, y, rho);
                    continue;
                }
                // The first step has no curvature scale yet: PyTorch's LBFGS uses min(1, 1/|g|_1).
                double step = s.Count == 0 ? Math.Min(1.0, 1.0 / SumAbs(g)) : 1.0;
                Tensor? next = null, nextGradient = null;
                double nextValue = double.NaN;
                for (int halving = 0; halving <= MaxHalvings; halving++, step *= 0.5)
                {
                    next?.Dispose(); nextGradient?.Dispose();
                    using (var stepScalar = step.ToScalar())
                    using (var move = direction.mul(stepScalar))
                        next = x.add(move, KeptScalars.One);
                    (nextValue, nextGradient) = objective(next);
                    if (nextValue <= f + Armijo * step * slope) break;
                }
                var sk = next! - x;
                var yk = nextGradient! - g;
                double sy = Dot(sk, yk);
                if (sy > 1e-12)
                {
                    s.Add(sk); y.Add(yk); rho.Add(1 / sy);
                    if (s.Count > options.History) { s[0].Dispose(); y[0].Dispose(); s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0); }
                }
                else { sk.Dispose(); yk.Dispose(); }
                double decrease = f - nextValue;
                x.Dispose(); g.Dispose();
                (x, f, g) = (next!, nextValue, nextGradient!);
                if (decrease >= 0 && decrease <= options.ChangeTolerance * Math.Max(1, Math.Abs(f))) { converged = true; break; }
            }
            return new LbfgsResult(x, f, iteration, converged);
        }
        catch
        {
            x.Dispose();
            throw;
        }
        finally
        {
            g.Dispose();
            Clear(s, y, rho);
        }
    }

    // The two-loop recursion: −H·g with H the L-BFGS inverse-Hessian estimate (scaled by sᵀy / yᵀy).
    private static Tensor Direction(Tensor g, List<Tensor> s, List<Tensor> y, List<double> rho)
    {
        using var scope = torch.NewDisposeScope();
        var q = g.clone();
        var alpha = new double[s.Count];
        for (int i = s.Count - 1; i >= 0; i--)
        {
            alpha[i] = rho[i] * Dot(s[i], q);
            using var a = alpha[i].ToScalar();
            q.sub_(y[i].mul(a));
        }
        if (s.Count > 0)
        {
            using var scale = (Dot(s[^1], y[^1]) / Dot(y[^1], y[^1])).ToScalar();
            q.mul_(scale);
        }
        for (int i = 0; i < s.Count; i++)
        {
            double beta = rho[i] * Dot(y[i], q);
            using var c = (alpha[i] - beta).ToScalar();
            q.add_(s[i].mul(c), KeptScalars.One);
        }
        return q.neg_().MoveToOuterDisposeScope();
    }

    private static double Dot(Tensor a, Tensor b)
    {
        using var product = a.dot(b);
        return KeptScalars.ValueOf(product);
    }

    private static double MaxAbs(Tensor t)
    {
        using var abs = t.abs();
        using var max = abs.max();
        return KeptScalars.ValueOf(max);
    }

    private static double SumAbs(Tensor t)
    {
        using var abs = t.abs();
        using var sum = abs.sum();
        return KeptScalars.ValueOf(sum);
    }

    private static void Clear(List<Tensor> s, List<Tensor> y, List<double> rho)
    {
        foreach (var t in s) t.Dispose();
        foreach (var t in y) t.Dispose();
        s.Clear(); y.Clear(); rho.Clear();
    }
}
