using System.Text.Json;

namespace OpenVision.Cli.Tests;

/// <summary><c>openvision caption</c> on an OpenVision 2 folder prints the reference decoder's captions, and vision-only
/// models refuse text work in one line.</summary>
public class CaptionCliTests
{
    // The OV2 fixtures written by tests/OpenVision.Tests/Fixtures/ov2/make_ov2_reference.py.
    private static string Fixtures
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "OpenVision.slnx"))) return Path.Combine(dir.FullName, "tests", "OpenVision.Tests", "Fixtures", "ov2");
            throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    [Theory]
    [InlineData("causal", "1", "greedy")]
    [InlineData("prefix", "3", "beam3")]
    public void CaptionPrintsTheReferenceCaption(string mask, string beam, string key)
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "expected-captions.json")));
        var expected = reference.RootElement.GetProperty(mask);
        string image = Path.Combine(Fixtures, "caption-image.png");
        var result = Cli.Run("caption", "--model", Path.Combine(Fixtures, "ov2-mini-a"), image, "--max-tokens", "8", "--beam", beam, "--mask", mask, "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var line = JsonDocument.Parse(result.Stdout.Trim()).RootElement;
        Assert.Equal(expected.GetProperty(key + "_text").GetString(), line.GetProperty("text").GetString());
        Assert.Equal(expected.GetProperty(key + "_ids").EnumerateArray().Select(e => e.GetInt32()), line.GetProperty("token_ids").EnumerateArray().Select(e => e.GetInt32()));
    }

    // Checked before the model loads (the model here does not exist), so a huge beam or token count costs nothing.
    [Theory]
    [InlineData("--beam", "100000", "--beam 100000 must be between 1 and 64")]
    [InlineData("--beam", "0", "--beam 0 must be between 1 and 64")]
    [InlineData("--max-tokens", "1000000000", "--max-tokens 1000000000 must be between 1 and 127 (the caption positions the decoder was trained on)")]
    [InlineData("--max-tokens", "128", "--max-tokens 128 must be between 1 and 127 (the caption positions the decoder was trained on)")]
    public void CaptionLimitsAreRefusedUpFront(string option, string value, string message)
    {
        var result = Cli.Run("caption", "--model", Path.Combine(Fixtures, "no-such-model"), Path.Combine(Fixtures, "caption-image.png"), option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"openvision: error: {message}", result.Stderr.Trim());
    }

    [Fact]
    public void CaptionRunsAtTheTokenLimit()
    {
        // The random fixture never emits [eos], so the caption is exactly the limit long.
        var result = Cli.Run("caption", "--model", Path.Combine(Fixtures, "ov2-mini-a"), Path.Combine(Fixtures, "caption-image.png"), "--max-tokens", "127", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(127, JsonDocument.Parse(result.Stdout.Trim()).RootElement.GetProperty("token_ids").GetArrayLength());
    }

    [Fact]
    public void CaptionWithoutADecoderSaysWhatIsMissing()
    {
        var result = Cli.Run("caption", "--model", Path.Combine(Fixtures, "ov2-mini-b"), Path.Combine(Fixtures, "caption-image.png"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no text_decoder_config.json", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void EmbedRefusesTextsOnAVisionOnlyModelButWritesTokens()
    {
        string temp = Path.Combine(Path.GetTempPath(), $"ov-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            string model = Path.Combine(Fixtures, "ov2-mini-a"), image = Path.Combine(Fixtures, "caption-image.png");
            var refused = Cli.Run("embed", "--model", model, "--images", image, "--texts", "a cat", "--output", Path.Combine(temp, "t.safetensors"));
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("model ov2-mini-a is vision-only: it has no text tower (zero-shot/text embedding need one)", refused.Stderr);
            Assert.False(File.Exists(Path.Combine(temp, "t.safetensors")));

            var ok = Cli.Run("embed", "--model", model, "--images", image, "--tokens", "--layer", "-2", "--output", Path.Combine(temp, "e.safetensors"));
            Assert.True(ok.ExitCode == 0, ok.Stderr);
            var info = Cli.Run("info", "--model", model);
            Assert.Equal(0, info.ExitCode);
            Assert.Contains("none (vision-only", info.Stdout);
        }
        finally { Directory.Delete(temp, recursive: true); }
    }
}
