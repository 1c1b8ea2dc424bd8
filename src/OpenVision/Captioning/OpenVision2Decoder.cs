using OpenVision.Layers;
using OpenVision.Native;
using OpenVision.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Captioning;

/// <summary>OpenVision 2's caption decoder (JAX <c>text_decoder_v2._Model</c>, <c>fusion_style='concat'</c>): projected
/// patch tokens followed by the embedded caption go through pre-LN blocks; the caption positions predict the next token.
/// Field names are the keys of the hub repos' <c>caption_decoder.safetensors</c>.</summary>
/// <remarks>Keys (W = width, V = vocabulary, Wv = vision width, M = MLP width): <c>token_embedding.weight</c> [V, W],
/// <c>image_projection.weight</c> [W, Wv], <c>blocks.N.{ln_1,ln_2}.{weight,bias}</c> [W],
/// <c>blocks.N.attn.in_proj_weight</c> [3W, W], <c>blocks.N.attn.in_proj_bias</c> [3W],
/// <c>blocks.N.attn.out_proj.{weight,bias}</c>, <c>blocks.N.mlp.c_fc.*</c> [M, W], <c>blocks.N.mlp.c_proj.*</c> [W, M],
/// <c>ln_final.{weight,bias}</c> [W], <c>lm_head.weight</c> [V, W] (not tied to the embedding).</remarks>
public sealed class OpenVision2Decoder : nn.Module
{
    // JAX names: Embed, image_projection_layer, Transformer/encoderblock_N, decoder_norm, head (text_decoder_v2.py:392-446).
    private readonly Embedding token_embedding;
    private readonly Linear image_projection;
    private readonly ModuleList<ResidualAttentionBlock> blocks;
    private readonly LayerNorm ln_final;
    private readonly Linear lm_head;

    /// <summary>Builds a decoder with the JAX code's initial values, in float32 on the CPU.</summary>
    public OpenVision2Decoder(CaptionDecoderConfig config) : base(nameof(OpenVision2Decoder))
    {
        var problems = config.Problems();
        if (problems.Count > 0) throw new ArgumentException($"caption decoder config: {string.Join("; ", problems)}", nameof(config));
        Config = config;
        int width = config.Width;
        // flax defaults: LayerNorm eps 1e-6 (text_decoder_v2.py:437, text_transformer.py:448/476); the MLP uses
        // nn.gelu(approximate=True), the tanh form (text_transformer.py:117).
        const double eps = 1e-6;
        token_embedding = nn.Embedding(config.VocabSize, width);
        image_projection = nn.Linear(config.VisionWidth, width, hasBias: false);   // use_bias=False (text_decoder_v2.py:406)
        blocks = new ModuleList<ResidualAttentionBlock>();
        for (int i = 0; i < config.Depth; i++) blocks.Add(new ResidualAttentionBlock(width, config.NumHeads, config.MlpDim, eps, tanhGelu: true));
        ln_final = nn.LayerNorm(width, eps);
        lm_head = nn.Linear(width, config.VocabSize, hasBias: false);             // use_bias=False (text_decoder_v2.py:441)
        Initialize();
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public CaptionDecoderConfig Config { get; }

    /// <summary>Element type of the parameters.</summary>
    public ScalarType DType => lm_head.weight!.dtype;

    /// <summary>Next-token logits [B, T, V] at every caption position, with autograd and no dispose scope.</summary>
    /// <param name="imageTokens">Patch tokens [B, N, Wv] (the vision tower's last block, class token dropped, no ln_post).</param>
    /// <param name="tokenIds">Caption ids [B, T] (int64), starting with [bos]; no positional embedding is added
    /// (text_decoder_v2.py:392-399 embeds the ids and nothing else).</param>
    /// <param name="mask">The attention mask.</param>
    public Tensor Logits(Tensor imageTokens, Tensor tokenIds, CaptionMask mask) => Head(HiddenStates(imageTokens, tokenIds, mask));

    /// <summary>The normalized caption-position states [B, T, W] that <see cref="Head"/> turns into logits, with autograd
    /// and no dispose scope: training applies the head only where a target counts.</summary>
    /// <param name="imageTokens">Patch tokens [B, N, Wv] (any N: training passes a random subset).</param>
    /// <param name="tokenIds">Caption ids [B, T] (int64), starting with [bos].</param>
    /// <param name="mask">The attention mask.</param>
    public Tensor HiddenStates(Tensor imageTokens, Tensor tokenIds, CaptionMask mask)
    {
        if (imageTokens.ndim != 3 || imageTokens.shape[2] != Config.VisionWidth)
            throw new ArgumentException($"image tokens must be [B, N, {Config.VisionWidth}], got [{string.Join(", ", imageTokens.shape)}]");
        if (tokenIds.ndim != 2 || tokenIds.shape[0] != imageTokens.shape[0] || tokenIds.dtype != ScalarType.Int64)
            throw new ArgumentException($"token ids must be int64 [{imageTokens.shape[0]}, T], got {tokenIds.dtype} [{string.Join(", ", tokenIds.shape)}]");
        TokenIdChecks.RequireInVocabulary(tokenIds, Config.VocabSize);
        long images = imageTokens.shape[1];
        var image = image_projection.call(imageTokens.to(DType));                     // [B, N, W]
        var text = token_embedding.call(tokenIds.to(image.device));                   // [B, T, W]
        var x = torch.cat([image, text], 1);                                          // [B, N+T, W]
        using var additive = AttentionMask(images, tokenIds.shape[1], mask, x.dtype, x.device);
        foreach (var block in blocks) x = block.call(x, additive);
        x = x.narrow(1, images, tokenIds.shape[1]);                                   // [B, T, W] caption positions (text_decoder_v2.py:421)
        return ln_final.call(x);                                                      // [B, T, W]
    }

    /// <summary>The vocabulary projection (<c>lm_head</c>, no bias): states [..., W] to logits [..., V].</summary>
    public Tensor Head(Tensor states) => lm_head.call(states);

    /// <summary>The mask as an additive tensor [N+T, N+T]: 0 where row may attend to column, −∞ elsewhere.</summary>
    /// <param name="images">N, image tokens (first in the sequence).</param>
    /// <param name="texts">T, caption tokens.</param>
    /// <param name="mask">Causal over everything, or prefix-LM.</param>
    /// <param name="dtype">Element type of the mask.</param>
    /// <param name="device">Device; the CPU when null.</param>
    public static Tensor AttentionMask(long images, long texts, CaptionMask mask, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        using var scope = torch.NewDisposeScope();
        long length = images + texts;
        var allowed = torch.ones(length, length, ScalarType.Bool, device).tril();   // causal: column ≤ row
        if (mask == CaptionMask.Prefix)
        {
            // Image rows: every image column and nothing else; text rows keep the causal row (all images, earlier text).
            using var stop = length.ToScalar();       // Scalars alive until the operator returns (see Native.KeptScalars)
            using var imageCount = images.ToScalar();
            var isImage = torch.arange(KeptScalars.Zero, stop, KeptScalars.One, device: device).lt(imageCount);
            var imageBlock = isImage.unsqueeze(1).logical_and(isImage.unsqueeze(0));
            allowed = torch.where(isImage.unsqueeze(1), imageBlock, allowed);
        }
        var additive = torch.zeros(length, length, dtype, device).masked_fill(allowed.logical_not(), KeptScalars.NegativeInfinity);
        return additive.MoveToOuterDisposeScope();
    }

    // text_decoder_v2.py: embedding N(0, 0.02), image projection N(0, Wv^-1/2), head N(0, W^-1/2); blocks as
    // text_transformer.Encoder1DBlock (attn W^-1/2, proj W^-1/2 (2·12)^-1/2 since Encoder does not pass its depth, fc (2W)^-1/2, zero biases).
    private void Initialize()
    {
        int width = Config.Width;
        double attnStd = Math.Pow(width, -0.5), fcStd = Math.Pow(2 * width, -0.5), projStd = Math.Pow(width, -0.5) * Math.Pow(2 * 12, -0.5);
        using var _ = torch.no_grad();
        nn.init.normal_(token_embedding.weight!, std: 0.02);
        nn.init.normal_(image_projection.weight!, std: Math.Pow(Config.VisionWidth, -0.5));
        foreach (var block in blocks)
        {
            nn.init.normal_(block.Attention.InProjWeight, std: attnStd);
            nn.init.normal_(block.Attention.OutProj.weight!, std: projStd);
            nn.init.normal_(block.Mlp.Fc.weight!, std: fcStd);
            nn.init.normal_(block.Mlp.Proj.weight!, std: projStd);
            block.Mlp.Fc.bias!.zero_();
            block.Mlp.Proj.bias!.zero_();
        }
        nn.init.normal_(lm_head.weight!, std: Math.Pow(width, -0.5));
    }
}
