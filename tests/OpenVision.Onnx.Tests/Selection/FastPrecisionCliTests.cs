using OpenVision.Onnx.Selection;
using OpenVision.Onnx.Tests.Cli;
using OpenVision.Tests;
using OpenVision.Tests.Parity;

namespace OpenVision.Onnx.Tests.Selection;

/// <summary><c>--precision fast</c> and <c>--backend fastest</c> as a user runs them: child processes with their own cache
/// folders; the first use measures, later uses read the cache, and the line printed names what was picked.</summary>
public class FastPrecisionCliTests
{
    private const string Name = "ovtest-mini-p8-40";

    private static Dictionary<string, string> Environment(string root) => new()
    {
        ["XDG_CACHE_HOME"] = Path.Combine(root, "xdg"),
        ["OPENVISION_ONNX_CACHE"] = Path.Combine(root, "onnx"),
    };

    private static string[] Classify(params string[] extra) =>
        ["classify", "--model", ReferenceModels.Folder(Name), ReferenceData.Path("preprocess", "images", "horse.png"), "--labels", "a horse", "a cat", "a car", "--json", .. extra];

    [Fact]
    public void FastMeasuresOnceThenReadsTheCacheAndSaysWhatItPicked()
    {
        var env = Environment(Exports.TempFolder("fast"));
        var first = CliProcess.Run(env, Classify("--precision", "fast"));
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("precision fast: ", first.Stderr);
        Assert.Contains("measured now", first.Stderr);
        Assert.Contains(FastPrecision.Candidates, c => first.Stderr.Contains($"precision fast: {c} (", StringComparison.Ordinal));
        var second = CliProcess.Run(env, Classify("--precision", "fast"));
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("cached measurement", second.Stderr);
        Assert.Single(Directory.GetFiles(Path.Combine(env["XDG_CACHE_HOME"], "openvision"), "backend-*.json"));
    }

    [Theory]
    [InlineData("bf16 torch")]
    [InlineData("int8 onnx")]
    public void FastRunsTheCandidateTheCachedMeasurementFavours(string winner)
    {
        // The same model and cache with a different fastest candidate must give a different pick (each case is the other's control).
        var env = Environment(Exports.TempFolder("fast"));
        using (var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder(Name)))
        {
            var rates = FastPrecision.Candidates.Select(c => c == winner ? 100.0 : 10.0).ToList();
            var choice = new BackendChoice(encoder.Config.Name, encoder.ImageSize, BackendChoiceMeasurement.CpuIdentity(), FastPrecision.Candidates,
                [new BackendRate(1, rates), new BackendRate(8, rates)], 0.1, DateTime.UtcNow);
            new BackendChoiceCache(Path.Combine(env["XDG_CACHE_HOME"], "openvision")).Save(choice);
        }
        var run = CliProcess.Run(env, Classify("--precision", "fast"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"precision fast: {winner} (cached measurement", run.Stderr);
        var exact = CliProcess.Run(env, Classify());
        Assert.Equal(Top(exact.Stdout), Top(run.Stdout));
    }

    [Fact]
    public void FastestBackendSaysWhereEachBatchSizeGoes()
    {
        var env = Environment(Exports.TempFolder("fastest"));
        var run = CliProcess.Run(env, Classify("--backend", "fastest"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("backend fastest (measured now)", run.Stderr);
        Assert.Contains("batch 1 torch", run.Stderr);
        Assert.Contains("batch 32 torch", run.Stderr);
    }

    [Fact]
    public void ConflictingOrUnknownSettingsAreUserErrors()
    {
        var env = Environment(Exports.TempFolder("fast"));
        var withBackend = CliProcess.Run(env, Classify("--precision", "fast", "--backend", "onnx"));
        Assert.Equal(1, withBackend.ExitCode);
        Assert.Contains("--precision fast picks the backend and precision itself", withBackend.Stderr);
        var withDType = CliProcess.Run(env, Classify("--precision", "fast", "--dtype", "bf16"));
        Assert.Equal(1, withDType.ExitCode);
        var unknown = CliProcess.Run(env, Classify("--precision", "turbo"));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--precision must be exact or fast, not 'turbo'", unknown.Stderr);
        var fastestBf16 = CliProcess.Run(env, Classify("--backend", "fastest", "--dtype", "bf16"));
        Assert.Equal(1, fastestBf16.ExitCode);
        Assert.Contains("--backend fastest runs float32 only", fastestBf16.Stderr);
    }

    private static string Top(string json) =>
        System.Text.Json.JsonDocument.Parse(json).RootElement[0].GetProperty("top")[0].GetProperty("label").GetString()!;
}
