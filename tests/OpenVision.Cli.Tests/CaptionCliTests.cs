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
