using OpenVision.Configs;
using OpenVision.Native;
using OpenVision.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Transformer = OpenVision.Layers.Transformer;

namespace OpenVision.Models;

// The text tower lives on the root module, exactly as in open_clip's CLIP: its state-dict keys
// (token_embedding, positional_embedding, transformer, ln_final, text_projection) have no prefix.
public sealed partial class OpenVisionModel
{
    // Null in a vision-only model; RegisterComponents skips null fields, so its state dict has visual.* keys only.
    private readonly Embedding? token_embedding;
    private readonly Parameter? positional_embedding, text_projection;
    private readonly Transformer? transformer;
    private readonly LayerNorm? ln_final;

    /// <summary>The text tower's architecture; throws for a vision-only model.</summary>
    public TextConfig TextConfig => Config.TextCfg;

    private static (Embedding, Parameter, Transformer, LayerNorm, Parameter) CreateTextTower(TextConfig config, int embedDim)
    {
        int width = config.Width;
        var tokens = nn.Embedding(config.VocabSize, width);
        var positions = nn.Parameter(torch.empty(config.ContextLength, width));
        var blocks = new Transformer(width, config.Layers, config.Heads, config.MlpWidth, config.NormKwargs.Eps,
            tanhGelu: config.ActKwargs?.IsTanh == true);
        var norm = nn.LayerNorm(width, config.NormKwargs.Eps);
        var projection = nn.Parameter(torch.empty(width, embedDim));

        // open_clip CLIP.init_parameters.
        using var _ = torch.no_grad();
        nn.init.normal_(tokens.weight!, std: 0.02);
        nn.init.normal_(positions, std: 0.01);
        double projStd = Math.Pow(width, -0.5) * Math.Pow(2 * config.Layers, -0.5);
        double attnStd = Math.Pow(width, -0.5), fcStd = Math.Pow(2 * width, -0.5);
        foreach (var block in blocks.Blocks)
        {
            nn.init.normal_(block.Attention.InProjWeight, std: attnStd);
            nn.init.normal_(block.Attention.OutProj.weight!, std: projStd);
            nn.init.normal_(block.Mlp.Fc.weight!, std: fcStd);
            nn.init.normal_(block.Mlp.Proj.weight!, std: projStd);
        }
        nn.init.normal_(projection, std: Math.Pow(width, -0.5));
        return (tokens, positions, blocks, norm, projection);
    }

    /// <summary>The text forward pass (with autograd, no dispose scope): pooled projected features [B, E],
    /// token states after ln_final and last-block states before it ([B, L, W]).</summary>
    public TextOutput ForwardText(Tensor tokenIds)
    {
        var config = Config.TextCfg;   // throws the one-line vision-only error first
        if (token_embedding is null || positional_embedding is null || transformer is null || ln_final is null || text_projection is null)
            throw ModelConfig.VisionOnlyError(Config.Name);
        TokenIdChecks.RequireTextIds(tokenIds, config.ContextLength, config.VocabSize);
        var x = token_embedding.call(tokenIds);                                  // [B, L, W]
        x = x.add(positional_embedding, KeptScalars.One);                        // the whole table: length must be exact
        using var mask = config.NoCausalMask ? null : CausalMask(config.ContextLength, x.dtype, x.device);
        var encoded = transformer.call(x, mask);                                 // OpenVision: no causal, no padding mask
        var states = ln_final.call(encoded);
        var pooled = config.PoolType switch
        {
            "last" => states[.., -1],                                            // OpenVision: position L-1 always holds [CLS]
            "first" => states[.., 0],
            _ => states[RowIndices(states.size(0), states.device), tokenIds.argmax(-1)],
        };
        return new TextOutput(pooled.matmul(text_projection), states, encoded);
    }

    // Scalars kept alive for the whole call, not TorchSharp's temporaries (see Native.KeptScalars).
    private static Tensor CausalMask(int length, ScalarType dtype, Device device)
    {
        using var filled = torch.full(length, length, KeptScalars.NegativeInfinity, dtype: dtype, device: device);
        return filled.triu(1);
    }

    private static Tensor RowIndices(long rows, Device device)
    {
        using var stop = rows.ToScalar();
        return torch.arange(KeptScalars.Zero, stop, KeptScalars.One, device: device);
    }
}

/// <summary>Outputs of <see cref="OpenVisionModel.ForwardText"/>.</summary>
/// <param name="Pooled">Projected text features [B, E], not normalized.</param>
/// <param name="States">Token states after ln_final [B, L, W].</param>
/// <param name="Encoded">Last-block token states before ln_final [B, L, W] (what the CLIPS decoder reads).</param>
public sealed record TextOutput(Tensor Pooled, Tensor States, Tensor Encoded);
