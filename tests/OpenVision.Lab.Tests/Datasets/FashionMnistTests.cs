using System.Buffers.Binary;
using System.IO.Compression;
using OpenVision.Lab.Datasets;
using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Training.Data.WebDataset;
using OpenVision.Vision;

namespace OpenVision.Lab.Tests.Datasets;

public class FashionMnistTests
{
    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(data);
        return output.ToArray();
    }

    // A fake Fashion-MNIST folder: n images whose pixels depend on the index, labels i mod 10; gzipped or plain.
    private static void WriteFake(string dir, int n, bool gzip)
    {
        var images = new byte[n * 784];
        for (int i = 0; i < images.Length; i++) images[i] = (byte)(i % 251);
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        foreach (var (stem, bytes) in new[]
        {
            ("train-images-idx3-ubyte", Idx(8, [n, 28, 28], images)), ("train-labels-idx1-ubyte", Idx(8, [n], labels)),
            ("t10k-images-idx3-ubyte", Idx(8, [n, 28, 28], images)), ("t10k-labels-idx1-ubyte", Idx(8, [n], labels)),
        })
            File.WriteAllBytes(Path.Combine(dir, gzip ? stem + ".gz" : stem), gzip ? Gzip(bytes) : bytes);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadsHandMadeIdxFilesPlainOrGzipped(bool gzip)
    {
        using var dir = new TempDirectory();
        WriteFake(dir.Path, 12, gzip);
        var test = FashionMnist.ReadTest(dir.Path);
        Assert.Equal(12, test.Count);
        Assert.Equal((byte)(784 % 251), test.Pixels(1)[0]);
        Assert.Equal(7, test.Labels[7]);
        var image = test.Image(2);
        Assert.Equal((28, 28, ImageMode.L), (image.Width, image.Height, image.Mode));
    }

    [Fact]
    public void WrittenIdxFilesAreTheHandMadeBytesAndReadBack()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "x-idx3-ubyte");
        byte[] data = [1, 2, 3, 4, 5, 6];
        IdxFile.Write(path, [2, 1, 3], data);
        Assert.Equal(Idx(8, [2, 1, 3], data), File.ReadAllBytes(path));
        var read = IdxFile.Read(path);
        Assert.Equal([2, 1, 3], read.Dimensions);
        Assert.Equal(data, read.Data);
        Assert.Throws<ArgumentException>(() => IdxFile.Write(path, [2, 2], data));
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 8, 1, 0, 0, 0, 0 }, "not an IDX file")]
    [InlineData(new byte[] { 0, 0, 0x0D, 1, 0, 0, 0, 0 }, "0x0D is not supported")]
    [InlineData(new byte[] { 0, 0, 8, 2, 0, 0, 0 }, "truncated IDX header")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 3, 1, 2 }, "need 3 bytes of data, the file has 2")]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 1, 1, 2 }, "the file has 2")]
    public void InvalidIdxFilesAreRejectedWithTheFileName(byte[] bytes, string message)
    {
        using var dir = new TempDirectory();
        string path = dir.File("broken-idx1-ubyte");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void LocateNamesTheAptCommandWhenFilesAreMissing()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Locate(dir.Path));
        Assert.Contains(FashionMnist.InstallCommand, e.Message);
        Assert.Contains(dir.Path, e.Message);
    }

    [Fact]
    public void RealDataHasTheOfficialCountsAndBalancedLabels()
    {
        var train = FashionMnist.ReadTrain();
        var test = FashionMnist.ReadTest();
        Assert.Equal((60000, 10000), (train.Count, test.Count));
        Assert.All(train.Labels.GroupBy(l => l), g => Assert.Equal(6000, g.Count()));
        Assert.All(test.Labels.GroupBy(l => l), g => Assert.Equal(1000, g.Count()));
        Assert.Equal(10, train.Labels.Distinct().Count());
        // The first test image is an ankle boot (label 9), as in every Fashion-MNIST loader.
        Assert.Equal(9, test.Labels[0]);
    }

    [Fact]
    public void ConvertedShardsGiveBackThePixelsLabelsAndTexts()
    {
        using var dir = new TempDirectory();
        var test = FashionMnist.ReadTest();
        var options = new FashionMnistConversionOptions { SamplesPerShard = 300, Limit = 1000, Seed = 5 };
        var conversion = FashionMnistConverter.Convert(test, dir.Path, options);
        Assert.Equal((4, 1000, false), (conversion.Shards.Count, conversion.Samples, conversion.Reused));
        Assert.Equal(conversion.Shards, BraceExpansion.Expand(conversion.Pattern));

        var source = new WebDatasetSource(conversion.Pattern, new DataOrderOptions { Shuffle = false });
        var samples = source.ReadEpoch(0).ToList();
        Assert.Equal(1000, samples.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            var image = samples[i].Decode();
            Assert.Equal(ImageMode.L, image.Mode);
            Assert.True(test.Pixels(i).SequenceEqual(image.Pixels), $"pixels of image {i}");
            Assert.Equal(test.Labels[i], samples[i].Label);
            Assert.Contains(samples[i].AltText, FashionMnistCaptions.AltTexts(test.Labels[i]));
            Assert.NotNull(samples[i].Caption);
        }
        Assert.Equal(0, source.Skips.Count);
        // Same options: the shards are reused; the shards are deterministic.
        byte[] first = File.ReadAllBytes(conversion.Shards[0]);
        Assert.True(FashionMnistConverter.Convert(test, dir.Path, options).Reused);
        using var again = new TempDirectory();
        Assert.Equal(first, File.ReadAllBytes(FashionMnistConverter.Convert(test, again.Path, options).Shards[0]));
    }

    [Fact]
    public void CaptionsAreDeterministicVariedAndTrueOfTheClass()
    {
        var test = FashionMnist.ReadTest();
        var captions = new HashSet<string>();
        for (int i = 0; i < 500; i++)
        {
            int label = test.Labels[i];
            var files = FashionMnistConverter.Sample(test, i, seed: 1);
            Assert.Equal(files["json"], FashionMnistConverter.Sample(test, i, seed: 1)["json"]);
            string caption = System.Text.Json.JsonDocument.Parse(files["json"]).RootElement.GetProperty("recaption").GetString()!;
            captions.Add(caption);
            var sentences = CaptionSentences.Split(caption);
            Assert.InRange(sentences.Count, 3, 5);
            // The opener names this class; the others are this class's attributes or a sentence about the pixels.
            Assert.Contains(FashionMnistCaptions.Nouns(label), n => sentences[0].Contains(n, StringComparison.Ordinal));
            foreach (string sentence in sentences.Skip(1))
                Assert.True(FashionMnistCaptions.AttributeSentences(label).Contains(sentence) || sentence.StartsWith("The ", StringComparison.Ordinal),
                    $"'{sentence}' in a caption of class {FashionMnist.ClassNames[label]}");
            for (int other = 0; other < 10; other++)
                if (other != label)
                    Assert.DoesNotContain(FashionMnistCaptions.AttributeSentences(other).Except(FashionMnistCaptions.AttributeSentences(label)), sentences.Contains);
        }
        Assert.True(captions.Count > 400, $"only {captions.Count} distinct captions in 500");
        Assert.NotEqual(FashionMnistConverter.Sample(test, 0, 1)["json"], FashionMnistConverter.Sample(test, 0, 2)["json"]);
    }

    [Fact]
    public void ClassNamesAreInTheOfficialOrder()
    {
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], FashionMnist.ClassNames);
        Assert.Equal(10, FashionMnist.PromptNames.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PngEncoderRoundTripsThroughThePngDecoder(int channels)
    {
        var pixels = new byte[13 * 7 * channels];
        new Random(3).NextBytes(pixels);
        var image = ImageDecoder.Decode(PngEncoder.Encode(pixels, 13, 7, channels), "t.png");
        Assert.Equal(channels == 1 ? ImageMode.L : ImageMode.Rgb, image.Mode);
        Assert.Equal(pixels, image.Pixels);
    }
}
