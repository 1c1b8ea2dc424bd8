namespace OpenVision.Captioning;

/// <summary>Which positions of the [image tokens; caption] sequence each position may attend to.</summary>
public enum CaptionMask
{
    /// <summary>Causal over the whole concatenated sequence, image tokens included: what OpenVision 2's JAX training
    /// code applies (<c>text_decoder_v2.py</c> builds <c>Encoder</c> without <c>fusion_style</c>, so its blocks take
    /// the default "cross_attn" branch, <c>text_transformer.py</c> lines 413-416).</summary>
    Causal,

    /// <summary>Prefix-LM: image tokens see every image token and no text; text sees all image tokens and the text up to
    /// itself (<c>text_transformer.py</c> lines 417-442; the mask of the hub repos' PyTorch decoder).</summary>
    Prefix,
}
