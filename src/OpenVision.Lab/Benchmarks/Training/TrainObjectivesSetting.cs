using OpenVision.Captioning;
using OpenVision.Configs;
using OpenVision.Lab.Demo;
using OpenVision.Models;
using OpenVision.Training;
using OpenVision.Training.Models;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>One model and batch on which the objectives are compared: the same vision tower for all of them; the
/// CLIPS variant adds the text tower and CLIPS decoder, the caption-only ones an OpenVision 2 decoder of the same size.</summary>
/// <param name="Name">Short name for the tables.</param>
/// <param name="Model">The CLIPS model (its vision tower is what every variant trains).</param>
/// <param name="ClipsDecoder">The CLIPS decoder.</param>
/// <param name="CaptionDecoder">The caption-only decoder (vision_width is the tower's).</param>
/// <param name="ImageSize">Pixels per side.</param>
/// <param name="BatchSize">Samples per step.</param>
/// <param name="CaptionTokens">Caption length (decoder queries for CLIPS, teacher-forced length for caption-only).</param>
public sealed record TrainObjectivesSetting(string Name, ModelConfig Model, DecoderConfig ClipsDecoder, CaptionDecoderConfig CaptionDecoder,
    int ImageSize, int BatchSize, int CaptionTokens)
{
    /// <summary>The demo's Fashion-MNIST setting: its 96-wide, 4-block tower at 24 px (36 patch tokens), its text
    /// tower (64 × 2, context 32) and decoder (32 × 1), batch 128; the caption-only decoder is as large as the CLIPS one.</summary>
    public static TrainObjectivesSetting Demo { get; } = new("demo 24px", FashionMnistDemo.ModelConfigFor(new DemoOptions()), FashionMnistDemo.DecoderConfig,
        SameSize(FashionMnistDemo.DecoderConfig, FashionMnistDemo.ModelConfig.VisionCfg.Width), FashionMnistDemo.HighResImageSize, 128, FashionMnistDemo.DecoderConfig.QueryTokens);

    /// <summary>A vision-dominated setting: a Small/8 tower (384 × 12, 6 heads) at 48 px (36 patch tokens) with the
    /// demo's small text tower, and 192 × 3 decoders; batch 32.</summary>
    public static TrainObjectivesSetting VisionDominated { get; } = CreateVisionDominated();

    /// <summary>The model a variant trains, freshly initialised from the global generator.</summary>
    public TrainingModel CreateModel(TrainObjectiveVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        return variant.IsCaptioning
            ? new CaptioningTrainingModel(new OpenVisionModel(CaptioningTrainingModel.VisionOnly(Model)), CaptionDecoder)
            : new ClipsTrainingModel(new OpenVisionModel(Model), ClipsDecoder);
    }

    private static TrainObjectivesSetting CreateVisionDominated()
    {
        var demo = FashionMnistDemo.ModelConfig;
        var model = demo with
        {
            Name = "small-patch8-48-demo-text",
            VisionCfg = demo.VisionCfg with { ImageSize = 48, PatchSize = 8, Width = 384, Layers = 12, HeadWidth = 64 },
        };
        var decoder = new DecoderConfig { Width = 192, Layers = 3, Heads = 3, MlpWidth = 768, QueryTokens = FashionMnistDemo.DecoderConfig.QueryTokens };
        return new("small/8 48px", model, decoder, SameSize(decoder, 384), 48, 32, decoder.QueryTokens);
    }

    private static CaptionDecoderConfig SameSize(DecoderConfig clips, int visionWidth) =>
        new() { Width = clips.Width, Depth = clips.Layers, NumHeads = clips.Heads, MlpDim = clips.MlpWidth, VocabSize = clips.VocabSize, VisionWidth = visionWidth };
}
