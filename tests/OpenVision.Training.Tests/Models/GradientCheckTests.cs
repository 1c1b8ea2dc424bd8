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

        FiniteDifferences.AssertAgrees(output, name, parameter, index, analytic, () =>
        {
            using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
            return losses.Total.item<double>();
        });
    }
}
