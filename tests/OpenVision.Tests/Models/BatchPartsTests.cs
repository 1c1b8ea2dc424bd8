using OpenVision.Configs;
using OpenVision.Models;
using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Models;

/// <summary>A batch in parts side by side: the parts cover the batch in order, each runs with one OpenMP and MKL thread (what
/// libtorch sees inside it) and leaves its thread's setting as it was, a failing part's error reaches the caller with
/// the other parts disposed, and a model's features, patch tokens and block outputs in parts equal those of one call.</summary>
public class BatchPartsTests
{
    [Fact]
    public void PartsCoverTheBatchInOrderOnOneThreadEach()
    {
        Assert.True(CallerThreads.Available, $"caller thread control: {CallerThreads.Status}");
        int callers = CallerThreads.MaxThreads;
        int mkl = CallerThreads.MklMaxThreads < 0 ? -1 : 1;   // -1: a libtorch without MKL
        var seen = new System.Collections.Concurrent.ConcurrentBag<(int Start, int Count, int OpenMp, int Torch, int Mkl)>();
        using var merged = BatchParts.Run(7, 2, (start, count) =>
        {
            seen.Add((start, count, CallerThreads.MaxThreads, torch.get_num_threads(), CallerThreads.MklMaxThreads));
            return torch.arange(start, start + count, ScalarType.Int64);
        }, parts => torch.cat(parts.ToArray()), out var effort);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), merged.data<long>().ToArray());
        Assert.Equal([(0, 3, 1, 1, mkl), (3, 4, 1, 1, mkl)], seen.OrderBy(p => p.Start));
        Assert.Equal(callers, CallerThreads.MaxThreads);
        Assert.True(effort.ThreadSeconds > 0 && effort.CpuSeconds >= 0, $"{effort}");
    }

    [Fact]
    public void AFailingPartReachesTheCallerAndTheOtherPartsAreDisposed()
    {
        var made = new System.Collections.Concurrent.ConcurrentBag<Tensor>();
        var error = Assert.Throws<InvalidDataException>(() => BatchParts.Run(4, 4, (start, _) =>
        {
            if (start == 2) throw new InvalidDataException("part 2");
            var part = torch.zeros(1);
            made.Add(part);
            return part;
        }, parts => throw new InvalidOperationException("no merge after a failure"), out _));
        Assert.Equal("part 2", error.Message);
        Assert.Equal(3, made.Count);
        Assert.All(made, part => Assert.True(part.IsInvalid));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void PartsAreAtLeastTwoAndAtMostTheBatch(int parts) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchParts.Run(4, parts, (_, _) => torch.zeros(1), p => p[0], out _));

    [Fact]
    public void AModelsEncodingsInPartsEqualThoseOfOneCall()
    {
        Assert.True(CallerThreads.Available, $"caller thread control: {CallerThreads.Status}");
        Assert.True(CallerThreads.MaxThreads >= 2, "the test needs libtorch to use two threads or more");
        using var model = new OpenVisionModel(ModelRegistry.Get("openvision-vit-tiny-patch16-224"));
        using var pixels = torch.randn([3, 3, 224, 224], generator: new torch.Generator(7));
        using var detailedPixels = torch.randn([5, 3, 224, 224], generator: new torch.Generator(8));
        using var tokens = torch.randint(1, 1000, [3, model.Config.TextCfg.ContextLength], generator: new torch.Generator(9));
        model.Threads.Enabled = false;
        using var image = model.EncodeImage(pixels, normalize: true);
        using var text = model.EncodeText(tokens);
        using var detailed = model.EncodeImageDetailed(detailedPixels, [-2]);
        model.Threads.Enabled = true;
        // Two contended calls on all threads make the next call of each key a trial in parts.
        foreach (var key in new ThreadChoiceKey[] { new("image", 224, 4), new("text", 0, 4), new("image", 224, 8) })
            for (int i = 0; i < 2; i++) model.Threads.Record(key, CallerThreads.MaxThreads, ThreadLayout.AllThreads, key.BatchBucket, 1, 0.1, 1);
        using var imageInParts = model.EncodeImage(pixels, normalize: true);
        using var textInParts = model.EncodeText(tokens);
        using var detailedInParts = model.EncodeImageDetailed(detailedPixels, [-2]);
        Assert.All(model.Threads.Choices(), choice => Assert.Equal(1L, choice.Trials));
        AssertClose(image, imageInParts);
        AssertClose(text, textInParts);
        AssertClose(detailed.Features, detailedInParts.Features);
        AssertClose(detailed.Tokens, detailedInParts.Tokens);
        Assert.Equal(detailed.Hidden.Keys, detailedInParts.Hidden.Keys);
        AssertClose(detailed.Hidden[10], detailedInParts.Hidden[10]);
    }

    // A row's result does not depend on the other rows; where a library blocks a product differently for fewer rows,
    // only the order of a sum changes: float32 round-off, far below this bound.
    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        float scale = expected.abs().max().item<float>();
        float difference = (actual - expected).abs().max().item<float>();
        Assert.True(difference <= 1e-5f * scale, $"largest difference {difference} against {scale}");
    }
}
