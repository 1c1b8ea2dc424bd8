namespace OpenVision.Vision;

/// <summary>How the image is brought to ImageSize × ImageSize (open_clip's <c>resize_mode</c>).</summary>
public enum ResizeMode
{
    /// <summary>open_clip "squash", the released OpenVision transform: resize straight to S × S, aspect ignored. Exact.</summary>
    Squash,

    /// <summary>open_clip "shortest": torchvision Resize(S) (shorter side to S, longer side truncated) then
    /// CenterCrop(S) (offsets rounded half to even). Exact.</summary>
    Shortest,

    /// <summary>The paper's JAX evaluation (big_vision <c>resize_small(S)|central_crop(S)|vgg_value_range</c>):
    /// shorter side to S with TensorFlow's antialiased bilinear in float32, truncation to uint8, crop at
    /// (dim − S) / 2. Approximate: TensorFlow's JPEG decoder and float summation order are not reproduced.</summary>
    JaxCenterCrop,
}
