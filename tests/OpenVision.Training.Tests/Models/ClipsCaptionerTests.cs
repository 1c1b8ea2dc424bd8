using OpenVision.Models;
using OpenVision.Training.Data;
using OpenVision.Training.Models;
using OpenVision.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

// Captioning with the CLIPS decoder of a model trained by the trainer: the saved folder carries the decoder, and the
// captioner's tokens are the argmax of the training forward pass (empty alt-text) at each query position up to [eos].
public sealed class ClipsCaptionerTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("ov-clips-caption-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    [Fact]
    public void TrainedClipsModelCaptionsWithItsDecoder()
    {
        // OpenVision's tokenizer ([CLS] is 101), so the text tower needs the real vocabulary size.
        var config = TinyModels.Config() with { TextCfg = TinyModels.Config().TextCfg with { VocabSize = 32000, HfTokenizerName = "bert-base-uncased" } };
        var train = new TrainConfig { Stages = [new TrainStage { ImageSize = TinyModels.ImageSize, Samples = 16, BatchSize = 4, PeakLr = 1e-2 }] };
        using var model = new Trainer(train, new SyntheticData(), Path.Combine(output, "run"), () =>
        {
            torch.manual_seed(3);
            return new ClipsTrainingModel(new OpenVisionModel(config), TinyModels.Decoder());
        }).Run();
        string folder = Path.Combine(output, "model");
        model.SaveModel(folder);
        Assert.True(ClipsCaptioner.HasDecoder(folder));

        string image = Path.Combine(output, "image.png");
        var bytes = new byte[16 * 16 * 3];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(image, PngEncoder.Encode(bytes, 16, 16, 3));
        using var captioner = ClipsCaptioner.Load(folder);
        var caption = captioner.CaptionFiles([image])[0];

        // The same image through the training model's own forward pass, the empty alt-text as both texts.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Train(false);
        var pixels = captioner.Encoder.Preprocess([ImageDecoder.Decode(image)]);
        var alt = torch.tensor(captioner.Tokenizer.Encode(""), ScalarType.Int64).unsqueeze(0);
        using var encoded = model.Encode(pixels, alt, alt);
        var logits = model.Decoder.Head(model.Decoder.QueryStates(encoded.VisionTokens, encoded.AltTextStates))[0];   // [Q, V]
        var expected = new List<int>();
        foreach (long id in logits.argmax(1).data<long>().ToArray())
        {
            if (id == 2) break;
            expected.Add((int)id);
        }
        Assert.Equal(expected, caption.TokenIds);
        Assert.True(double.IsFinite(caption.LogProbability));
        // The loaded decoder is the trained one, not a fresh initialisation.
        var saved = captioner.Decoder.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().data<float>().ToArray());
        foreach (var (name, parameter) in model.Decoder.named_parameters()) Assert.Equal(parameter.detach().data<float>().ToArray(), saved[name]);
    }

    [Fact]
    public void FolderWithoutDecoderIsRefusedInOneLine()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ClipsCaptioner.Load(output));
        Assert.Contains("no clips_decoder_config.json", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
