using OpenVision.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Optimization;

public class AdamWTests
{
    // TorchSharp's AdamW with our groups against OpenVision's optax chain written out in doubles:
    // m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; u = m̂ / (√v̂ + eps) + wd·p (kernels only); p −= lr(step)·u.
    [Fact]
    public void MatchesOptaxChainOverScheduledSteps()
    {
        var config = new AdamWConfig();
        var kernel = new Parameter(torch.tensor(new[] { 0.5, -1.5 }, ScalarType.Float64));
        var bias = new Parameter(torch.tensor(new[] { 0.25 }, ScalarType.Float64));
        var groups = new ParamGroups([("k", kernel)], [("b", bias)], []);
        using var optimizer = config.Create(groups);
        var schedule = LrSchedule.WarmupCosine(0.1, 2, 6);
        double[][] grads = [[0.3, -0.2, 0.7], [1.0, 0.5, -0.4], [-0.6, 0.1, 0.2], [0.05, -0.9, 0.3]];

        double[] p = [0.5, -1.5, 0.25], m = new double[3], v = new double[3];
        for (int step = 0; step < grads.Length; step++)
        {
            double lr = schedule.At(step);
            OptimizerSteps.SetLearningRate(optimizer, lr);
            OptimizerSteps.ZeroGrad(optimizer);
            kernel.grad = torch.tensor(grads[step][..2], ScalarType.Float64);
            bias.grad = torch.tensor(grads[step][2..], ScalarType.Float64);
            optimizer.step();

            int t = step + 1;
            for (int i = 0; i < 3; i++)
            {
                double g = grads[step][i];
                m[i] = config.Beta1 * m[i] + (1 - config.Beta1) * g;
                v[i] = config.Beta2 * v[i] + (1 - config.Beta2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(config.Beta1, t)), vHat = v[i] / (1 - Math.Pow(config.Beta2, t));
                double update = mHat / (Math.Sqrt(vHat) + config.Eps) + (i < 2 ? config.WeightDecay * p[i] : 0);
                p[i] -= lr * update;
            }
            var actual = kernel.data<double>().ToArray().Concat(bias.data<double>().ToArray()).ToArray();
            for (int i = 0; i < 3; i++) Assert.Equal(p[i], actual[i], 14);
        }
    }

    [Fact]
    public void DefaultsAreOpenVisions()
    {
        var config = new AdamWConfig();
        Assert.Equal((0.9, 0.95, 1e-8, 0.2), (config.Beta1, config.Beta2, config.Eps, config.WeightDecay));
    }

    [Fact]
    public void LearningRateIsSetOnEveryGroup()
    {
        using var model = TinyModels.Model(4);
        using var optimizer = new AdamWConfig().Create(ParamGroups.Split(model), learningRate: 0.5);
        OptimizerSteps.SetLearningRate(optimizer, 0.125);
        Assert.Equal([0.125, 0.125], optimizer.ParamGroups.Select(g => g.LearningRate));
        Assert.Equal(ParamGroups.Split(model).Decayed.Count + ParamGroups.Split(model).NotDecayed.Count, optimizer.parameters().Count());
    }
}
