using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

/// <summary>One element's derivative by central differences, compared with autograd's.</summary>
internal static class FiniteDifferences
{
    /// <summary>Asserts that d loss / d parameter[index] by finite differences equals <paramref name="analytic"/> to 1e-6
    /// relative. <paramref name="loss"/> evaluates the loss (it runs under no_grad) at the parameter's current value.</summary>
    public static void AssertAgrees(ITestOutputHelper output, string name, Tensor parameter, long index, double analytic, Func<double> loss)
    {
        double Loss(double delta)
        {
            using var _ = no_grad();
            using var flat = parameter.view(-1);
            double original = flat[index].item<double>();
            flat[index].fill_(original + delta);
            double value = loss();
            flat[index].fill_(original);
            return value;
        }
        // Central differences with one Richardson step: truncation error O(h⁴), round-off ~1e-16·L/h. The step follows
        // the tensor's scale: embeddings of ~0.02 under LayerNorm curve the loss on that scale, so a fixed 1e-3 step
        // would be 5 % of it (3.5e-6 error there against 1e-10 with this step).
        double h;
        using (no_grad()) h = 1e-3 * Math.Max(parameter.square().mean().sqrt().item<double>(), 1e-2);
        double Central(double step) => (Loss(step) - Loss(-step)) / (2 * step);
        double numeric = (4 * Central(h / 2) - Central(h)) / 3;

        double relative = Math.Abs(numeric - analytic) / Math.Max(Math.Abs(analytic), 1e-300);
        output.WriteLine($"{name}[{index}]: autograd {analytic:E10}, finite differences {numeric:E10}, relative error {relative:E2}");
        Assert.True(Math.Abs(analytic) > 1e-7, $"pick an element with a non-negligible gradient ({analytic:E2})");
        Assert.True(relative < 1e-6, $"relative error {relative:E2}");
    }
}
