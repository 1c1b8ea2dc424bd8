using OpenVision.Captioning;
using OpenVision.Configs;
using OpenVision.Layers;
using OpenVision.Models;
using OpenVision.Tests.Fixtures;
using OpenVision.Tests.Parity;
using OpenVision.Vision;
using OpenVision.ZeroShot;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Native;

/// <summary>Every inference path of the library on a tiny random-init model: preprocessing, image and text towers
/// (float32 and bfloat16), patch tokens and an intermediate block at a resolution whose sin-cos table is recomputed,
/// logits, a zero-shot classifier built and applied, open_clip's other text tower (causal mask, argmax pooling), and OpenVision 2 captioning (greedy with the prefix
/// mask, beam search with the causal one). Every model runs in one pinned thread layout: adaptive layouts would change
/// with the load the tests create, and with them the last bits of some outputs.</summary>
internal sealed class InferenceWorkload : IDisposable
{
    private const int ImageSize = 96;   // the config's 64 px → a recomputed 6×6 table
    private static readonly string[] Texts = ["a photo of a cat", "a dog", "two birds on a wire"];
    private static readonly string[] ClassNames = ["cat", "dog", "bird"];
    private static readonly string[] Templates = ["a photo of a {}.", "{}"];

    private readonly OpenVisionModel model;
    private readonly OpenVisionEncoder encoder, reduced, causal;
    private readonly IReadOnlyList<DecodedImage> images;
    private readonly ImageCaptioner captioner;

    public InferenceWorkload(ThreadLayout layout = ThreadLayout.AllThreads)
    {
        var configPath = Path.Combine(ReferenceModels.Folder("ovtest-mini-p16-64"), "open_clip_config.json");
        var config = ConfigJson.Load(configPath);
        torch.manual_seed(7);
        model = new OpenVisionModel(config);
        encoder = OpenVisionEncoder.FromModel(model, ImageSize);
        torch.manual_seed(7);
        reduced = OpenVisionEncoder.FromModel(new OpenVisionModel(config).ToInferenceDType(ScalarType.BFloat16), ImageSize);
        var causalJson = File.ReadAllText(configPath).Replace("\"no_causal_mask\": true", "\"no_causal_mask\": false").Replace("\"pool_type\": \"last\"", "\"pool_type\": \"argmax\"");
        var causalConfig = ConfigJson.Parse(causalJson, "causal argmax variant");
        if (causalConfig.TextCfg.NoCausalMask || causalConfig.TextCfg.PoolType != "argmax") throw new InvalidOperationException("the config variant did not take");
        torch.manual_seed(7);
        causal = OpenVisionEncoder.FromModel(new OpenVisionModel(causalConfig), ImageSize);
        captioner = ImageCaptioner.Load(TestFiles.Fixture("ov2", "ov2-mini-a"));
        var random = new Random(3);
        foreach (var pinned in new[] { encoder, reduced, causal, captioner.Encoder })
            ((OpenVision.Backends.TorchSharpBackend)pinned.Backend).Model.Threads.Pinned = layout;
        images = Enumerable.Range(0, 2).Select(i =>
        {
            var pixels = new byte[70 * 50 * 3];
            random.NextBytes(pixels);
            return new DecodedImage(70, 50, ImageMode.Rgb, pixels, ImageFormat.Png);
        }).ToList();
    }

    /// <summary>Runs everything once; the caller disposes the returned outputs.</summary>
    public List<Tensor> Run()
    {
        var outputs = new List<Tensor>();
        var imageFeatures = encoder.EncodeImages(images);
        var textFeatures = encoder.EncodeTexts(Texts);
        outputs.AddRange([imageFeatures, textFeatures, model.Logits(imageFeatures, textFeatures)]);
        using (var pixels = encoder.Preprocess(images))
        {
            var detailed = model.EncodeImageDetailed(pixels, layers: [-2], normalize: true);
            outputs.AddRange([detailed.Features, detailed.Tokens, .. detailed.Hidden.Values]);
        }
        using (var classifier = encoder.CreateClassifier(ClassNames, Templates, canonicalize: true))
        {
            outputs.Add(classifier.Weights.clone());
            outputs.Add(classifier.Probabilities(imageFeatures));
            var top = classifier.Top(imageFeatures, 2);
            outputs.Add(torch.tensor(top.SelectMany(row => row.Select(score => score.Probability)).ToArray()));
        }
        outputs.Add(SinCosPositionalEmbedding.Create(5, 64));
        outputs.Add(reduced.EncodeImages(images));
        outputs.Add(reduced.EncodeTexts(Texts));
        outputs.Add(causal.EncodeTexts(Texts));
        var captions = captioner.CaptionImages(images, new CaptionOptions { MaxTokens = 4, Mask = CaptionMask.Prefix })
            .Concat(captioner.CaptionImages(images, new CaptionOptions { MaxTokens = 4, BeamWidth = 2, Mask = CaptionMask.Causal }));
        outputs.Add(torch.tensor(captions.SelectMany(c => c.TokenIds).Select(id => (long)id).ToArray()));
        return outputs;
    }

    public void Dispose()
    {
        encoder.Dispose();
        reduced.Dispose();
        causal.Dispose();
        captioner.Dispose();
    }
}
