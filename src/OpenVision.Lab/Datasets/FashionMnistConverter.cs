using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenVision.Pipelines;
using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;

namespace OpenVision.Lab.Datasets;

/// <summary>Writes a Fashion-MNIST split as WebDataset shards so that training reads it through the real data path.
/// Per image: <c>{key}.png</c> (28×28 grey PNG), <c>{key}.txt</c> (terse alt-text), <c>{key}.json</c>
/// (<c>recaption</c>: the generated caption, <c>label</c>, <c>class</c>) and <c>{key}.cls</c> (label).</summary>
/// <remarks>Output is a deterministic function of the split and the options (shards are byte-identical between runs).
/// A small <c>{split}.done.json</c> written last records the options; converting again with the same options
/// reuses the shards instead of rewriting them.</remarks>
public static class FashionMnistConverter
{
    private const int FormatVersion = 1;

    /// <summary>Converts <paramref name="split"/> into shards <c>{split.Name}-NNNNNN.tar</c> in <paramref name="directory"/>.</summary>
    public static FashionMnistConversion Convert(FashionMnistSplit split, string directory, FashionMnistConversionOptions? options = null,
        IProgress<ProgressReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(directory);
        options ??= new FashionMnistConversionOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SamplesPerShard, 1);
        int count = Math.Min(split.Count, options.Limit ?? split.Count);
        if (count < 1) throw new ArgumentException("nothing to convert", nameof(options));

        string marker = Path.Combine(directory, $"{split.Name}.done.json");
        string expected = JsonSerializer.Serialize(new { version = FormatVersion, split = split.Name, samples = count, samples_per_shard = options.SamplesPerShard, seed = options.Seed });
        int shardCount = (count + options.SamplesPerShard - 1) / options.SamplesPerShard;
        var names = Enumerable.Range(0, shardCount).Select(i => Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{split.Name}-{i:D6}.tar"))).ToArray();
        if (File.Exists(marker) && File.ReadAllText(marker) == expected && names.All(File.Exists))
            return new FashionMnistConversion(names, Pattern(directory, split.Name, shardCount), count, Reused: true);
        if (File.Exists(marker)) File.Delete(marker);

        var meter = new ProgressMeter(count);
        using var writer = new WebDatasetWriter(directory, split.Name, options.SamplesPerShard);
        try
        {
            for (int start = 0; start < count; start += options.SamplesPerShard)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(options.SamplesPerShard, count - start);
                // Encoding is the slow part; do a shard's worth in parallel, then write in order.
                var samples = new Dictionary<string, byte[]>[n];
                Parallel.For(0, n, i => samples[i] = Sample(split, start + i, options.Seed));
                for (int i = 0; i < n; i++) writer.Write(Key(split.Name, start + i), samples[i]);
                progress?.Report(meter.Add(n));
            }
            writer.Flush();
        }
        catch
        {
            writer.Abandon();
            throw;
        }
        File.WriteAllText(marker + ".tmp", expected);
        File.Move(marker + ".tmp", marker, overwrite: true);
        return new FashionMnistConversion(writer.Shards, Pattern(directory, split.Name, shardCount), count, Reused: false);
    }

    /// <summary>The key of image <paramref name="index"/> of a split, e.g. "train-0000123".</summary>
    public static string Key(string splitName, int index) => string.Create(CultureInfo.InvariantCulture, $"{splitName}-{index:D7}");

    /// <summary>The files of one sample: PNG, alt-text, JSON with the caption, class label.</summary>
    public static Dictionary<string, byte[]> Sample(FashionMnistSplit split, int index, long seed)
    {
        ArgumentNullException.ThrowIfNull(split);
        var pixels = split.Pixels(index);
        int label = split.Labels[index];
        // One generator per image, keyed by its index, so any subset converts to the same texts.
        var random = new DataRandom(seed, 6, index, DataRandom.Hash(split.Name));
        string alt = FashionMnistCaptions.AltText(label, random);
        string caption = FashionMnistCaptions.Caption(label, pixels, random);
        string json = JsonSerializer.Serialize(new Dictionary<string, object> { ["recaption"] = caption, ["label"] = label, ["class"] = FashionMnist.ClassNames[label] });
        return new Dictionary<string, byte[]>
        {
            ["png"] = PngEncoder.Encode(pixels, FashionMnistSplit.Side, FashionMnistSplit.Side, 1),
            ["txt"] = Encoding.UTF8.GetBytes(alt),
            ["json"] = Encoding.UTF8.GetBytes(json),
            ["cls"] = Encoding.ASCII.GetBytes(label.ToString(CultureInfo.InvariantCulture)),
        };
    }

    private static string Pattern(string directory, string name, int shards) =>
        shards == 1 ? Path.Combine(directory, $"{name}-000000.tar") : Path.Combine(directory, $"{name}-{{000000..{shards - 1:D6}}}.tar");
}
