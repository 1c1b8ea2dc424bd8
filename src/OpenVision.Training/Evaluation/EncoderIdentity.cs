namespace OpenVision.Training.Evaluation;

/// <summary>How evaluation results name the encoder (CLIP_benchmark's "model" and "pretrained" fields).</summary>
public static class EncoderIdentity
{
    /// <summary>Where the weights came from, or "random-init" for a model without a checkpoint.</summary>
    public static string Pretrained(this OpenVisionEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        return encoder.Source.WeightsPath ?? "random-init";
    }
}
