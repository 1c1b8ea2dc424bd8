using System.Text.Json;
using OpenVision.Captioning;
using OpenVision.Checkpoints;
using OpenVision.Tests.Fixtures;
using OpenVision.Tests.Parity;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OpenVision.Tests.Captioning;

/// <summary>The OpenVision 2 caption decoder against Fixtures/ov2/make_ov2_reference.py's PyTorch decoder, and its masks
/// against cases worked by hand.</summary>
public class CaptionDecoderTests(ITestOutputHelper output)
{
    private static string MiniA => TestFiles.Fixture("ov2", "ov2-mini-a");

    private static OpenVision2Decoder LoadDecoder(ScalarType dtype)
    {
        var decoder = new OpenVision2Decoder(CaptionDecoderConfig.Load(Path.Combine(MiniA, CaptionDecoderConfig.FileName)));
        var path = Path.Combine(MiniA, ImageCaptioner.DecoderWeightsFileName);
        StateDictLoader.Load(decoder, SafetensorsFile.Read(path), path);
        decoder.to(dtype).eval();
        return decoder;
    }

    // Two image tokens (i0, i1) then three text tokens (t0..t2); 1 = may attend. Worked out by hand from
    // text_transformer.py: the causal branch is make_causal_mask over all five positions; the prefix branch opens the
    // image block, closes image → text, and keeps text → image and text causal.
    [Theory]
    [InlineData(CaptionMask.Causal, new[] { "10000", "11000", "11100", "11110", "11111" })]
    [InlineData(CaptionMask.Prefix, new[] { "11000", "11000", "11100", "11110", "11111" })]
    public void MaskMatchesTheHandWorkedCase(CaptionMask kind, string[] rows)
    {
        using var mask = OpenVision2Decoder.AttentionMask(2, 3, kind, ScalarType.Float64);
        var values = mask.data<double>().ToArray();
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++)
                Assert.Equal(rows[r][c] == '1' ? 0.0 : double.NegativeInfinity, values[r * 5 + c]);
    }

    [Theory]
    [InlineData("causal", CaptionMask.Causal)]
    [InlineData("prefix", CaptionMask.Prefix)]
    public void LogitsMatchReference(string name, CaptionMask kind)
    {
        var expected = SafetensorsFile.Read(Path.Combine(MiniA, "expected.safetensors"));
        foreach (var (suffix, dtype, bound) in new[] { ("", ScalarType.Float32, Tolerance.Float32), ("_f64", ScalarType.Float64, Tolerance.Float64) })
        {
            using var scope = NewDisposeScope();
            using var decoder = LoadDecoder(dtype);
            using var _ = torch.no_grad();
            var logits = decoder.Logits(expected["image_tokens" + suffix].ToTorch(), expected["decoder_text_ids"].ToTorch(), kind);
            var reference = expected[$"decoder_logits_{name}{suffix}"].ToTorch();
            output.WriteLine($"{name} {dtype}: relative error {Tolerance.RelativeError(logits, reference):E2}");
            Tolerance.AssertClose(logits, reference, bound, $"decoder_logits_{name}{suffix}");
            // Negative control: the other mask gives logits the comparison rejects.
            var other = expected[$"decoder_logits_{(name == "causal" ? "prefix" : "causal")}{suffix}"].ToTorch();
            Assert.True(Tolerance.RelativeError(logits, other) > 1e-3);
        }
    }

    [Fact]
    public void TheCaptionDependsOnlyOnEarlierTextPositions()
    {
        // Changing the last text token must not change the logits at earlier positions, under either mask.
        using var decoder = LoadDecoder(ScalarType.Float64);
        using var _ = torch.no_grad();
        using var tokens = torch.randn(1, 9, 32, ScalarType.Float64);
        using var a = torch.tensor(new long[] { 1, 1037, 1045, 1020 }).unsqueeze(0);
        using var b = torch.tensor(new long[] { 1, 1037, 1045, 1050 }).unsqueeze(0);
        foreach (var kind in new[] { CaptionMask.Causal, CaptionMask.Prefix })
        {
            using var la = decoder.Logits(tokens, a, kind);
            using var lb = decoder.Logits(tokens, b, kind);
            Assert.True(la.narrow(1, 0, 3).allclose(lb.narrow(1, 0, 3), rtol: 0, atol: 0));
            Assert.False(la.narrow(1, 3, 1).allclose(lb.narrow(1, 3, 1)));
        }
    }

    [Fact]
    public void ConfigRefusesUnknownKeysNamingTheFile()
    {
        using var temp = TestFiles.NewTempFolder();
        File.WriteAllText(temp.Path("c.json"), """{"width": 16, "depth": 1, "num_heads": 2, "mlp_dim": 8, "vocab_size": 10, "vision_width": 4, "bos_id": 1, "eos_id": 2, "fusion": "x"}""");
        var e = Assert.Throws<OpenVision.Configs.ConfigException>(() => CaptionDecoderConfig.Load(temp.Path("c.json")));
        Assert.Contains("c.json", e.Message);
        Assert.Contains("'fusion'", e.Message);
    }

    public static TheoryData<string, int> Searches => new() { { "causal", 1 }, { "prefix", 1 }, { "causal", 3 }, { "prefix", 3 } };

    // End to end: the PNG through the model's preprocessing, the encoder and the decoder, as the reference did.
    [Theory]
    [MemberData(nameof(Searches))]
    public void CaptionsMatchReference(string mask, int beam)
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(TestFiles.Fixture("ov2", "expected-captions.json")));
        var expected = reference.RootElement.GetProperty(mask);
        string key = beam == 1 ? "greedy" : "beam3";
        using var captioner = ImageCaptioner.Load(MiniA);
        var options = new CaptionOptions { MaxTokens = 8, BeamWidth = beam, Mask = Enum.Parse<CaptionMask>(mask, ignoreCase: true) };
        var caption = captioner.CaptionFiles([TestFiles.Fixture("ov2", "caption-image.png")], options).Single();
        Assert.Equal(expected.GetProperty(key + "_ids").EnumerateArray().Select(e => e.GetInt32()), caption.TokenIds);
        Assert.Equal(expected.GetProperty(key + "_text").GetString(), caption.Text);
    }

    [Fact]
    public void CaptionOptionsAreBounded()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CaptionOptions { MaxTokens = CaptionOptions.MaxTokensLimit + 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new CaptionOptions { BeamWidth = CaptionOptions.MaxBeamWidth + 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new CaptionOptions { MaxTokens = 0 }.Validate());
        new CaptionOptions { MaxTokens = CaptionOptions.MaxTokensLimit, BeamWidth = CaptionOptions.MaxBeamWidth }.Validate();
    }
}
