using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

// Finite differences against autograd for the whole training loss, in float64 on the tiny model.
public class GradientCheckTests(ITestOutputHelper output)
{
    // (parameter, flat element index): one or more per part of the model, decoder and logit scale included.
    public static TheoryData<string, int> Elements => new()
    {
        { "logit_scale", 0 },
        { "text_decoder.queries", 7 },
        { "text_decoder.head.weight", 40 },
        { "text_decoder.image_proj.weight", 5 },
        { "text_decoder.text_proj.weight", 13 },
        { "text_decoder.resblocks.0.attn.in_proj_weight", 30 },
        { "text_decoder.resblocks.1.mlp.c_fc.weight", 9 },
        { "text_decoder.ln_final.weight", 2 },
        { "visual.conv1.weight", 17 },
        { "visual.class_embedding", 3 },
        { "visual.transformer.resblocks.1.attn.out_proj.weight", 21 },
        { "visual.proj", 6 },
        { "transformer.resblocks.0.mlp.c_proj.bias", 4 },
        { "positional_embedding", 8 },
        { "text_projection", 10 },
    };

    [Theory]
    [MemberData(nameof(Elements))]
    public void AutogradMatchesFiniteDifferences(string name, int index)
    {
        using var model = TinyModels.Model(31, ScalarType.Float64);
        using var batch = TinyModels.MakeBatch(3, seed: 32, ScalarType.Float64);
        var parameter = model.NamedParameters().Single(p => p.Name == name).Parameter;

        double analytic;
        using (var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions))
        {
            losses.Total.backward();
            using var grad = parameter.grad!.flatten();
            analytic = grad[index].item<double>();
        }

        double Loss(double delta)
        {
            using var _ = no_grad();
            using var flat = parameter.view(-1);
            double original = flat[index].item<double>();
            flat[index].fill_(original + delta);
            using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
            double value = losses.Total.item<double>();
            flat[index].fill_(original);
            return value;
        }
        // Central differences with one Richardson step: truncation error O(h⁴), round-off ~1e-16·L/h.
        // The step follows the tensor's scale: the text embeddings are ~0.02 and LayerNorm makes the loss curve on
        // that scale, so a fixed 1e-3 step would be 5 % of it (measured: 3.5e-6 error there vs 1e-10 with this step).
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
