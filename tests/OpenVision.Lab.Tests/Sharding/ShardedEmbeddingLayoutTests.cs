using OpenVision.Backends;
using OpenVision.Checkpoints;
using OpenVision.Lab.Benchmarks;
using OpenVision.Lab.Sharding;
using OpenVision.Models;
using OpenVision.Pipelines;
using OpenVision.Tests.Parity;

namespace OpenVision.Lab.Tests.Sharding;

/// <summary>A sharded job fixes how the model uses the cores, so its bytes do not depend on the machine's load (the
/// adaptive layouts agree only within round-off), and gives the caller's own setting back.</summary>
public sealed class ShardedEmbeddingLayoutTests
{
    private static readonly ShardedEmbeddingOptions Options = new() { ShardSize = 8, BatchSize = 4 };

    [Fact]
    public void AJobPinsItsLayoutWritesTheSameBytesUnderLoadAndRestoresTheCallers()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder("ovtest-mini-p16-64"));
        var threads = ((TorchSharpBackend)encoder.Backend).Model.Threads;
        Assert.True(threads.Enabled, $"adaptive threads: {ContentionAwareThreads.Status}");
        // Eight passes over the reference images: enough calls under load for the adaptive choice to switch layouts,
        // which changed the last bits of some rows when this job was not pinned.
        var images = ImageFiles.Expand([OpenVision.Tests.ReferenceData.Path("preprocess", "images")]);
        var files = Enumerable.Repeat(images, 8).SelectMany(f => f).ToList();
        threads.Pinned = ThreadLayout.OneThread;                          // the caller's own choice

        using var quiet = new TempDirectory();
        using var loaded = new TempDirectory();
        ShardedEmbedding.Run(encoder, files, ShardSpec.All, quiet.Path, Options);
        Assert.Equal(ThreadLayout.OneThread, threads.Pinned);
        Assert.Empty(threads.Choices());                                  // every call ran pinned: adaptive calls are recorded
        using (new BackgroundLoad(4)) ShardedEmbedding.Run(encoder, files, ShardSpec.All, loaded.Path, Options);
        Assert.True(ShardedEmbedding.Merge(quiet.Path, quiet.File("all.safetensors")).IsComplete);
        Assert.True(ShardedEmbedding.Merge(loaded.Path, loaded.File("all.safetensors")).IsComplete);
        var expected = SafetensorsFile.Read(quiet.File("all.safetensors"))["image_features"];
        Assert.True(expected.Shape[0] >= 8 * 12, $"{expected.Shape[0]} rows");
        Assert.Equal(expected.Bytes, SafetensorsFile.Read(loaded.File("all.safetensors"))["image_features"].Bytes);

        using var adaptive = new TempDirectory();
        ShardedEmbedding.Run(encoder, files, ShardSpec.All, adaptive.Path, Options with { ThreadLayout = null });
        Assert.NotEmpty(threads.Choices());
        Assert.Equal(ThreadLayout.OneThread, threads.Pinned);
    }
}
