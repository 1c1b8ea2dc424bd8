using OpenVision.Configs;
using OpenVision.Lab.Benchmarks;
using OpenVision.Models;

namespace OpenVision.Lab.Tests.Benchmarks;

/// <summary><c>bench --background-load</c>'s comparison rows: both ways timed, labelled as float32 image rows, and the
/// model's own setting left as it was.</summary>
public class ThreadComparisonTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BothWaysAreTimedAndTheSettingIsRestored(bool enabled)
    {
        using var model = new OpenVisionModel(ModelRegistry.Get("openvision-vit-tiny-patch16-224"));
        model.Threads.Enabled = enabled;
        var (adaptive, allThreads) = EncodeBenchmark.ImagesAgainstAllThreads(model, 1, TimeSpan.FromSeconds(0.05));
        Assert.All(new[] { adaptive, allThreads }, row =>
        {
            Assert.Equal(("encode_image", "Float32", 1), (row.Task, row.DType, row.BatchSize));
            Assert.True(row.ItemsPerSecond > 0 && double.IsFinite(row.ItemsPerSecond));
        });
        Assert.Equal(enabled, model.Threads.Enabled);
        // Only the adaptive calls are recorded: at least the three timed ones after warm-up.
        if (enabled) Assert.True(Assert.Single(model.Threads.Choices()).Calls >= 3);
        else Assert.Empty(model.Threads.Choices());
    }
}
