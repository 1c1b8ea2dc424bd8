using OpenVision.Training.Optimization;

namespace OpenVision.Training.Tests.Optimization;

public class ParamGroupsTests
{
    private static readonly string[] BlockKernels = ["attn.in_proj_weight", "attn.out_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"];
    private static readonly string[] BlockOthers = ["ln_1.weight", "ln_1.bias", "attn.in_proj_bias", "attn.out_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.bias", "mlp.c_proj.bias"];

    private static IEnumerable<string> Blocks(string prefix, IEnumerable<string> keys) =>
        Enumerable.Range(0, 2).SelectMany(i => keys.Select(k => $"{prefix}resblocks.{i}.{k}"));

    [Fact]
    public void TrainingModelSplitsAsOptaxKernelMask()
    {
        using var model = TinyModels.Model(1);
        var groups = ParamGroups.Split(model);

        string[] decayed =
        [
            "visual.conv1.weight", "visual.proj", "text_projection",
            "text_decoder.image_proj.weight", "text_decoder.text_proj.weight", "text_decoder.head.weight",
            .. Blocks("visual.transformer.", BlockKernels), .. Blocks("transformer.", BlockKernels), .. Blocks("text_decoder.", BlockKernels),
        ];
        string[] notDecayed =
        [
            "logit_scale", "token_embedding.weight", "positional_embedding", "ln_final.weight", "ln_final.bias",
            "visual.class_embedding", "visual.ln_post.weight", "visual.ln_post.bias",
            "text_decoder.queries", "text_decoder.ln_final.weight", "text_decoder.ln_final.bias",
            .. Blocks("visual.transformer.", BlockOthers), .. Blocks("transformer.", BlockOthers), .. Blocks("text_decoder.", BlockOthers),
        ];
        Assert.Equal(decayed.Order(StringComparer.Ordinal), groups.Decayed.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(notDecayed.Order(StringComparer.Ordinal), groups.NotDecayed.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["visual.positional_embedding"], groups.Frozen.Select(p => p.Name));
    }

    [Fact]
    public void EveryParameterIsInExactlyOneGroup()
    {
        using var model = TinyModels.Model(2);
        var groups = ParamGroups.Split(model);
        var all = model.NamedParameters().ToList();
        var grouped = groups.Decayed.Concat(groups.NotDecayed).Concat(groups.Frozen).ToList();
        Assert.Equal(all.Count, grouped.Count);
        Assert.Equal(all.Select(p => p.Name).ToHashSet(), grouped.Select(p => p.Name).ToHashSet());
        // Same tensors, not copies: the optimizer must update the model's own parameters.
        var byName = all.ToDictionary(p => p.Name, p => p.Parameter);
        Assert.All(grouped, p => Assert.Same(byName[p.Name], p.Parameter));
    }

    // A bare open_clip model has nothing frozen: the table is only frozen by the training model.
    [Fact]
    public void BareModuleSplitUsesTheSameRule()
    {
        using var model = TinyModels.Model(3);
        var groups = ParamGroups.Split(model.Decoder);
        Assert.Equal(3 + 2 * 4, groups.Decayed.Count);
        Assert.Contains(groups.NotDecayed, p => p.Name == "queries");
        Assert.Empty(groups.Frozen);
    }
}
