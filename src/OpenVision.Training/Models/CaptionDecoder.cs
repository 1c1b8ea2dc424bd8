using OpenVision.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training.Models;

/// <summary>The CLIPS / OpenVision caption decoder (OpenVision <c>text_decoder.py</c>, <c>fusion_style='concat'</c>):
/// a prefix-LM transformer over [projected image tokens; projected alt-text states; learnable queries] whose query
/// positions predict the caption. Not teacher-forced: caption tokens are never fed in.</summary>
/// <remarks>State-dict keys (under <c>text_decoder.</c> when attached to a model; W = decoder width, V = vocabulary,
/// Q = query tokens, Wv / Wt = vision / text tower widths):
/// <c>image_proj.weight</c> [W, Wv], <c>text_proj.weight</c> [W, Wt], <c>queries</c> [Q, W],
/// <c>resblocks.N.{ln_1,ln_2}.{weight,bias}</c> [W], <c>resblocks.N.attn.in_proj_weight</c> [3W, W],
/// <c>resblocks.N.attn.in_proj_bias</c> [3W], <c>resblocks.N.attn.out_proj.{weight,bias}</c> [W, W] / [W],
/// <c>resblocks.N.mlp.c_fc.{weight,bias}</c> [M, W] / [M], <c>resblocks.N.mlp.c_proj.{weight,bias}</c> [W, M] / [W],
/// <c>ln_final.{weight,bias}</c> [W], <c>head.weight</c> [V, W]. JAX names: image_projection_layer,
/// text_projection_layer, learnable_tokens, Transformer/encoderblock_N, decoder_norm, head.</remarks>
public sealed class CaptionDecoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear image_proj, text_proj;
    private readonly Parameter queries;
    private readonly ModuleList<ResidualAttentionBlock> resblocks;
    private readonly LayerNorm ln_final;
    private readonly Linear head;

    /// <summary>Builds a decoder with OpenVision's JAX initialisation, in float32 on the CPU.</summary>
    /// <param name="config">Decoder architecture.</param>
    /// <param name="imageWidth">Width of the vision tower's patch tokens.</param>
    /// <param name="textWidth">Width of the text tower's token states.</param>
    public CaptionDecoder(DecoderConfig config, int imageWidth, int textWidth) : base(nameof(CaptionDecoder))
    {
        Config = config.Validate();
        if (imageWidth <= 0 || textWidth <= 0) throw new ArgumentException("input widths must be positive");
        int width = config.Width;
        image_proj = nn.Linear(imageWidth, width, hasBias: false);
        text_proj = nn.Linear(textWidth, width, hasBias: false);
        queries = nn.Parameter(torch.randn(config.QueryTokens, width));          // learnable_tokens ~ N(0, 1)
        resblocks = new ModuleList<ResidualAttentionBlock>();
        for (int i = 0; i < config.Layers; i++)
            resblocks.Add(new ResidualAttentionBlock(width, config.Heads, config.MlpWidth, config.Eps, tanhGelu: true));
        ln_final = nn.LayerNorm(width, config.Eps);
        head = nn.Linear(width, config.VocabSize, hasBias: false);
        Initialize(imageWidth, textWidth);
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public DecoderConfig Config { get; }

    /// <summary>Caption logits [B, Q, V] for image patch tokens [B, G, Wv] and alt-text token states [B, T, Wt]
    /// (the text tower's last-block states before ln_final, class position dropped).</summary>
    public override Tensor forward(Tensor imageTokens, Tensor textStates)
    {
        using var scope = torch.NewDisposeScope();
        return head.call(QueryStates(imageTokens, textStates)).MoveToOuterDisposeScope();   // [B, Q, V]
    }

    /// <summary>The query positions after <c>ln_final</c>, before the vocabulary head: [B, Q, W].</summary>
    public Tensor QueryStates(Tensor imageTokens, Tensor textStates)
    {
        using var scope = torch.NewDisposeScope();
        var x = ForwardSequence(imageTokens, textStates);                        // [B, P+Q, W]
        x = x.narrow(1, x.shape[1] - Config.QueryTokens, Config.QueryTokens);    // [B, Q, W] query positions only
        return ln_final.call(x).MoveToOuterDisposeScope();
    }

    /// <summary>Vocabulary logits for any stack of normalized query states [..., W] → [..., V].</summary>
    public Tensor Head(Tensor states) => head.call(states);

    /// <summary>The last block's output over the whole sequence [B, P+Q, W] (prefix first); for tests of the mask.</summary>
    internal Tensor ForwardSequence(Tensor imageTokens, Tensor textStates)
    {
        if (imageTokens.ndim != 3 || textStates.ndim != 3 || imageTokens.shape[0] != textStates.shape[0])
            throw new ArgumentException($"image tokens [B, G, Wv] and text states [B, T, Wt] must share B, got [{string.Join(", ", imageTokens.shape)}] and [{string.Join(", ", textStates.shape)}]");
        long batch = imageTokens.shape[0];
        using var scope = torch.NewDisposeScope();
        var image = image_proj.call(imageTokens);                                // [B, G, W]
        var text = text_proj.call(textStates);                                   // [B, T, W]
        var query = queries.unsqueeze(0).expand(batch, -1, -1);                  // [B, Q, W]
        var x = torch.cat([image, text, query], 1);                              // [B, P+Q, W]; no positional embeddings
        var mask = AttentionMask(image.shape[1] + text.shape[1], Config.QueryTokens, x.dtype, x.device);
        foreach (var block in resblocks) x = block.call(x, mask);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The prefix-LM mask as an additive float tensor [P+Q, P+Q] (0 where attention is allowed, −∞ elsewhere):
    /// prefix rows see every prefix column and no query; query rows see the whole prefix and queries up to themselves.</summary>
    /// <param name="prefixTokens">P: image plus text tokens.</param>
    /// <param name="queryTokens">Q: learnable query tokens.</param>
    /// <param name="dtype">Element type of the mask (the attention's dtype).</param>
    /// <param name="device">Device of the mask; the CPU when null.</param>
    public static Tensor AttentionMask(long prefixTokens, long queryTokens, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (prefixTokens < 0 || queryTokens < 0) throw new ArgumentOutOfRangeException(nameof(prefixTokens));
        using var scope = torch.NewDisposeScope();
        long length = prefixTokens + queryTokens;
        // OpenVision text_transformer.Encoder1DBlock (fusion 'concat'): causal everywhere, then the prefix block
        // opened up. The causal lower triangle already gives queries the whole prefix and hides queries from the prefix.
        var allowed = torch.ones(length, length, ScalarType.Bool, device).tril();
        var prefix = torch.arange(length, device: device).lt(prefixTokens);     // [L]
        allowed = allowed.logical_or(prefix.unsqueeze(1).logical_and(prefix.unsqueeze(0)));
        var mask = torch.zeros(length, length, dtype, device).masked_fill(allowed.logical_not(), double.NegativeInfinity);
        return mask.MoveToOuterDisposeScope();
    }

    // OpenVision text_decoder._Model and text_transformer.Encoder1DBlock initialisers. Encoder does not pass its
    // depth to the blocks, so the projection std uses the block default depth 12 whatever the decoder depth.
    private void Initialize(int imageWidth, int textWidth)
    {
        int width = Config.Width;
        double attnStd = Math.Pow(width, -0.5), fcStd = Math.Pow(2 * width, -0.5);
        double projStd = Math.Pow(width, -0.5) * Math.Pow(2 * 12, -0.5);
        using var _ = torch.no_grad();
        nn.init.normal_(image_proj.weight!, std: Math.Pow(imageWidth, -0.5));
        nn.init.normal_(text_proj.weight!, std: Math.Pow(textWidth, -0.5));
        foreach (var block in resblocks)
        {
            nn.init.normal_(block.Attention.InProjWeight, std: attnStd);         // q, k, v kernels alike
            nn.init.normal_(block.Attention.OutProj.weight!, std: projStd);
            nn.init.normal_(block.Mlp.Fc.weight!, std: fcStd);
            nn.init.normal_(block.Mlp.Proj.weight!, std: projStd);
            block.Mlp.Fc.bias!.zero_();                                          // flax Dense biases start at zero
            block.Mlp.Proj.bias!.zero_();
        }
        nn.init.normal_(head.weight!, std: Math.Pow(width, -0.5));
    }
}
