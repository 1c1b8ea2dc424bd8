using OpenVision.Pipelines;
using OpenVision.Vision;

namespace OpenVision.Tests.Pipelines;

/// <summary>The batch reader writes each image straight into the batch tensor: every kept image must hold exactly
/// what the transform gives it alone, in input order, with unreadable files skipped and reported.</summary>
public sealed class ImageBatchReaderTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("ov-batch-reader-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private IReadOnlyList<string> Files()
    {
        string broken = Path.Combine(folder, "broken.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3]);
        string empty = Path.Combine(folder, "empty.png");
        File.WriteAllBytes(empty, []);
        string Image(string name) => ReferenceData.Path("preprocess", "images", name);
        return [Image("chelsea.png"), broken, Image("rocket.jpg"), Image("horse.png"), empty, Image("chelsea_progressive.jpg"), Image("green_palette.png")];
    }

    [Fact]
    public void KeptImagesEqualTheTransformAloneInOrder()
    {
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 64 });
        var files = Files();
        var paths = new List<string>();
        var skipped = new List<SkippedItem>();
        foreach (var batch in new ImageBatchReader(transform, batchSize: 3).Read(files))
        {
            using (batch)
            {
                Assert.Equal(new long[] { batch.Paths.Count, 3, 64, 64 }, batch.Pixels.shape);
                var values = batch.Pixels.data<float>().ToArray();
                for (int i = 0; i < batch.Paths.Count; i++)
                {
                    var expected = transform.ToChw(ImageDecoder.Decode(batch.Paths[i]));
                    Assert.True(expected.AsSpan().SequenceEqual(values.AsSpan(i * expected.Length, expected.Length)), batch.Paths[i]);
                }
                paths.AddRange(batch.Paths);
                skipped.AddRange(batch.Skipped);
            }
        }
        Assert.Equal(files.Where(f => !f.Contains(folder)).ToList(), paths);
        Assert.Equal([Path.Combine(folder, "broken.jpg"), Path.Combine(folder, "empty.png")], skipped.Select(s => s.Path).ToList());
        Assert.All(skipped, s => Assert.Contains(Path.GetFileName(s.Path), s.Reason));
    }

    [Fact]
    public void StoppingEarlyEndsTheProducer()
    {
        var transform = new ImageTransform(new ImageTransformOptions { ImageSize = 32 });
        var files = Enumerable.Repeat(ReferenceData.Path("preprocess", "images", "chelsea.png"), 200).ToList();
        int decoded = 0;
        var reader = new ImageBatchReader(transform, batchSize: 2, prefetchBatches: 1);
        foreach (var batch in reader.Read(files, f => f, f => { Interlocked.Increment(ref decoded); return ImageDecoder.Decode(f); }))
        {
            batch.Dispose();
            break;
        }
        int afterBreak = Volatile.Read(ref decoded);
        Thread.Sleep(200);
        Assert.Equal(afterBreak, Volatile.Read(ref decoded)); // nothing decodes once the caller has left
        Assert.True(afterBreak < 20, $"{afterBreak} images decoded for one batch of 2");
    }
}
