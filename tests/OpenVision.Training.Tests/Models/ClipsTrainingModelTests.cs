using OpenVision.Checkpoints;
using OpenVision.Models;
using OpenVision.Training.Losses;
using OpenVision.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Models;

public class ClipsTrainingModelTests
{
    private static double Value(Tensor t) => t.detach().to(ScalarType.Float64).item<double>();

    [Fact]
    public void TotalIsOneContrastivePlusTwoCaption()
    {
        using var model = TinyModels.Model(1);
        using var batch = TinyModels.MakeBatch(4, seed: 2);
        using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
        var (contrastive, caption, total) = losses.ToDoubles();
        Assert.True(double.IsFinite(total) && contrastive > 0 && caption > 0);
        Assert.Equal(contrastive + 2 * caption, total, 5);
        // A fresh decoder predicts roughly uniformly over the vocabulary; the contrastive loss starts near log(B).
        Assert.InRange(caption, Math.Log(TinyModels.VocabSize) - 1.5, Math.Log(TinyModels.VocabSize) + 1.5);
    }

    // The same losses assembled by hand from the towers, one text set at a time, with the naive formulas.
    [Fact]
    public void ForwardEqualsTheRecipeAssembledByHand()
    {
        using var model = TinyModels.Model(3, ScalarType.Float64);
        using var batch = TinyModels.MakeBatch(3, seed: 4, ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);

        var vision = model.Clip.Visual.Forward(batch.Pixels, new HashSet<int>());
        var alt = model.Clip.ForwardText(batch.AltTexts);
        var sub = model.Clip.ForwardText(batch.SubCaptions);
        var zimg = vision.Pooled / vision.Pooled.norm(1, keepdim: true).add(1e-8);
        var z1 = alt.Pooled / alt.Pooled.norm(1, keepdim: true).add(1e-8);
        var z2 = sub.Pooled / sub.Pooled.norm(1, keepdim: true).add(1e-8);
        var t = model.Clip.LogitScaleParameter.exp();
        Tensor Set(Tensor z)
        {
            var logits = t * zimg.matmul(z.T);
            var labels = torch.arange(3);
            return (nn.functional.cross_entropy(logits, labels) + nn.functional.cross_entropy(logits.T, labels)) / 2;
        }
        double contrastive = Value((Set(z1) + Set(z2)) / 2);
        var logitsTxt = model.Decoder.call(vision.Tokens, alt.Encoded[.., ..(TinyModels.ContextLength - 1)]);
        double caption = Value(CaptionLoss.FromCaptionIds(logitsTxt, batch.Captions));

        Assert.Equal(contrastive, Value(losses.Contrastive), 12);
        Assert.Equal(caption, Value(losses.Caption), 12);
        Assert.Equal(contrastive + 2 * caption, Value(losses.Total), 12);
    }

    // The decoder reads the alt-text (set 1) only: sub-captions move the contrastive loss but not the caption loss.
    [Fact]
    public void DecoderReadsTheAltTextOnly()
    {
        using var model = TinyModels.Model(5, ScalarType.Float64);
        using var batch = TinyModels.MakeBatch(2, seed: 6, ScalarType.Float64);
        using var other = TinyModels.MakeBatch(2, seed: 7, ScalarType.Float64);
        using var scope = NewDisposeScope();
        var reference = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
        var newSub = model.Forward(batch.Pixels, batch.AltTexts, other.SubCaptions, batch.Captions);
        var newAlt = model.Forward(batch.Pixels, other.AltTexts, batch.SubCaptions, batch.Captions);
        Assert.Equal(Value(reference.Caption), Value(newSub.Caption));
        Assert.NotEqual(Value(reference.Contrastive), Value(newSub.Contrastive));
        Assert.NotEqual(Value(reference.Caption), Value(newAlt.Caption));
    }

    [Fact]
    public void VisionPositionalTableIsFrozen()
    {
        using var model = TinyModels.Model(8);
        using var batch = TinyModels.MakeBatch(2, seed: 9);
        var table = model.NamedParameters().Single(p => p.Name == "visual.positional_embedding").Parameter;
        Assert.False(table.requires_grad);
        using (var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions)) losses.Total.backward();
        Assert.Null(table.grad);
        Assert.All(model.NamedParameters().Where(p => p.Name != "visual.positional_embedding"), p => Assert.NotNull(p.Parameter.grad));
    }

    // Other resolutions (progressive resolution) use the recomputed sin-cos table.
    [Fact]
    public void RunsAtAnotherResolution()
    {
        using var model = TinyModels.Model(10);
        using var batch = TinyModels.MakeBatch(2, seed: 11);
        using var scope = NewDisposeScope();
        var pixels = torch.randn(2, 3, 32, 32);                              // 4×4 grid instead of 2×2
        using var losses = model.Forward(pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
        Assert.True(double.IsFinite(losses.ToDoubles().Total));
    }

    [Fact]
    public void WrongShapesAreClearErrors()
    {
        using var model = TinyModels.Model(12);
        using var batch = TinyModels.MakeBatch(2, seed: 13);
        using var scope = NewDisposeScope();
        Assert.Contains("batch sizes differ", Assert.Throws<ArgumentException>(() => model.Forward(batch.Pixels, batch.AltTexts[..1], batch.SubCaptions, batch.Captions)).Message);
        Assert.Contains("[B, 6]", Assert.Throws<ArgumentException>(() => model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.AltTexts)).Message);
    }

    // Checkpoints: the CLIP keys are exactly the open_clip model's, plus text_decoder.*; a round trip reproduces the losses.
    [Fact]
    public void CheckpointRoundTrip()
    {
        using var model = TinyModels.Model(14);
        using var batch = TinyModels.MakeBatch(2, seed: 15);
        var state = model.ExportStateDict();
        var clipKeys = model.Clip.state_dict().Keys.ToHashSet();
        Assert.Equal(clipKeys, state.Keys.Where(k => !k.StartsWith("text_decoder.")).ToHashSet());
        Assert.Equal(model.Decoder.state_dict().Keys.Select(k => "text_decoder." + k).ToHashSet(), state.Keys.Where(k => k.StartsWith("text_decoder.")).ToHashSet());
        Assert.Contains("text_decoder.resblocks.1.mlp.c_proj.weight", state.Keys);

        var path = Path.Combine(Path.GetTempPath(), $"clips-{Guid.NewGuid():N}.safetensors");
        try
        {
            model.Save(path);
            using var restored = TinyModels.Model(99);
            var report = restored.Load(path);
            Assert.True(report.IsExact);
            using var expected = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
            using var actual = restored.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
            Assert.Equal(expected.ToDoubles(), actual.ToDoubles());
            Assert.False(restored.NamedParameters().Single(p => p.Name == "visual.positional_embedding").Parameter.requires_grad);
        }
        finally { File.Delete(path); }
    }

    // The training model is one TorchSharp module laid out as open_clip's CoCa: its own state_dict() and
    // named_parameters() carry the open_clip keys plus text_decoder.*, and to() keeps the CLIP's fields in step.
    [Fact]
    public void IsOneModuleWithTheCheckpointKeys()
    {
        using var model = TinyModels.Model(20);
        var expected = model.Clip.state_dict().Keys.Concat(model.Decoder.state_dict().Keys.Select(k => ClipsTrainingModel.DecoderPrefix + k));
        Assert.Equal(expected.Order(StringComparer.Ordinal), model.state_dict().Keys.Order(StringComparer.Ordinal));
        Assert.Equal(model.Clip.named_parameters().Select(p => p.name), model.named_parameters().Select(p => p.name).Where(n => !n.StartsWith(ClipsTrainingModel.DecoderPrefix, StringComparison.Ordinal)));
        Assert.Contains(model.named_children(), c => c.name == "text_decoder" && ReferenceEquals(c.module, model.Decoder));

        model.To(ScalarType.Float64);
        Assert.All(model.named_parameters(), p => Assert.Equal(ScalarType.Float64, p.parameter.dtype));
        // The CLIP's own parameters are the module's: one object, converted once.
        Assert.Same(model.Clip.LogitScaleParameter, model.named_parameters().Single(p => p.name == "logit_scale").parameter);
        Assert.Equal(ScalarType.Float64, model.Clip.DType);
        using var batch = TinyModels.MakeBatch(2, seed: 21, ScalarType.Float64);
        using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
        Assert.Equal(ScalarType.Float64, losses.Total.dtype);
    }

    // A released checkpoint has no decoder: loadable only when the decoder is not required.
    [Fact]
    public void PlainOpenClipCheckpointLoadsWithoutDecoder()
    {
        using var source = TinyModels.Model(16);
        using var target = TinyModels.Model(17);
        var clipOnly = StateDictLoader.Export(source.Clip);
        Assert.Throws<CheckpointFormatException>(() => target.LoadStateDict(clipOnly, "clip-only"));
        var report = target.LoadStateDict(clipOnly, "clip-only", requireDecoder: false);
        Assert.Contains("text_decoder.queries", report.Missing);
        Assert.Empty(report.Unexpected);
        using var scope = NewDisposeScope();
        var ids = torch.tensor(new long[,] { { 1, 5, 2, 0, 0, 0, 0, 39 } });
        Assert.True(source.Clip.EncodeText(ids).allclose(target.Clip.EncodeText(ids), rtol: 0, atol: 0));
    }

    [Fact]
    public void IncompatibleCheckpointIsRefusedBeforeAnythingIsCopied()
    {
        using var model = TinyModels.Model(18);
        var state = model.ExportStateDict();
        state.Remove("text_decoder.head.weight");
        state["text_decoder.extra"] = state["logit_scale"];
        using var target = TinyModels.Model(19);
        using (no_grad()) target.Clip.LogitScaleParameter.fill_(1.0);
        var error = Assert.Throws<CheckpointFormatException>(() => target.LoadStateDict(state, "broken"));
        Assert.Contains("text_decoder.head.weight", error.Message);
        Assert.Contains("text_decoder.extra", error.Message);
        Assert.Equal(Math.E, target.Clip.LogitScale, 6);                     // untouched
    }
}
