using OpenVision.Training.Augmentation;
using OpenVision.Training.Data;
using OpenVision.Vision;

namespace OpenVision.Training.Tests.Data;

public class AugmentationTests
{
    private static DecodedImage RgbImage(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        return new DecodedImage(width, height, ImageMode.Rgb, pixels, ImageFormat.Png);
    }

    private static DecodedImage GreyImage(int width, int height)
    {
        var pixels = new byte[width * height];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 % 256);
        return new DecodedImage(width, height, ImageMode.L, pixels, ImageFormat.Png);
    }

    private static float[] Augment(ImageAugmenter augmenter, DecodedImage image, long seed)
    {
        var output = new float[augmenter.OutputLength];
        augmenter.Apply(image, new DataRandom(seed, 1, 2), output);
        return output;
    }

    [Fact]
    public void SameSeedSameImageDifferentSeedDifferentImage()
    {
        var augmenter = new ImageAugmenter(32);
        var image = RgbImage(50, 40, 1);
        Assert.Equal(Augment(augmenter, image, 7), Augment(augmenter, image, 7));
        Assert.NotEqual(Augment(augmenter, image, 7), Augment(augmenter, image, 8));
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(640, 480)]
    [InlineData(100, 37)]
    public void CropAreaAndAspectStayWithinTheRanges(int width, int height)
    {
        var options = AugmentationOptions.OpenVision;
        var random = new DataRandom(3);
        int fallbacks = 0;
        for (int i = 0; i < 2000; i++)
        {
            var box = InceptionCrop.Sample(width, height, options, random);
            Assert.InRange(box.X, 0, width - box.Width);
            Assert.InRange(box.Y, 0, height - box.Height);
            if (box.IsFallback) { fallbacks++; continue; }
            // w and h are rounded from the drawn area and ratio: allow half a pixel on each side.
            double area = (double)box.Width * box.Height / (width * height);
            double slack = (box.Width + box.Height + 0.25) / 2 / (width * height);
            Assert.InRange(area, 0.40 - slack, 1.0 + slack);
            double ratio = (double)box.Width / box.Height;
            Assert.InRange(ratio, 0.75 * (1 - 0.5 / box.Height) / (1 + 0.5 / box.Width) - 1e-9, 4.0 / 3 * (1 + 0.5 / box.Height) / (1 - 0.5 / box.Width) + 1e-9);
        }
        // Images within the aspect range rarely need the fallback; a 100x37 strip mostly does (as in torchvision).
        if (width * 3 <= height * 4 && height * 3 <= width * 4) Assert.True(fallbacks < 200, $"{fallbacks} fallbacks");
    }

    [Fact]
    public void ImpossibleCropsFallBackToTheCentre()
    {
        var options = AugmentationOptions.OpenVision with { CropAttempts = 0 };
        Assert.Equal(new CropBox(0, 0, 40, 40, true), InceptionCrop.Sample(40, 40, options, new DataRandom(1)));
        // Very wide image: the box is clamped to the largest allowed aspect ratio and centred.
        Assert.Equal(new CropBox(43, 0, 13, 10, true), InceptionCrop.Sample(100, 10, options, new DataRandom(1)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EvalModeIsThePlainResize(bool grey)
    {
        var image = grey ? GreyImage(45, 30) : RgbImage(45, 30, 2);
        var eval = new ImageTransform(new ImageTransformOptions { ImageSize = 24 });
        var augmenter = new ImageAugmenter(24, AugmentationOptions.None);
        Assert.Equal(eval.ToChw(image), Augment(augmenter, image, 1));
        Assert.Equal(eval.ToChw(image), Augment(augmenter, image, 2));
    }

    // A full-image crop with no jitter and no grey goes through the same resize and normalisation as eval.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FullCropWithoutColourChangesEqualsEval(bool grey)
    {
        var image = grey ? GreyImage(30, 30) : RgbImage(30, 30, 4);
        var options = AugmentationOptions.OpenVision with { AreaMin = 1, AspectMin = 1, AspectMax = 1, JitterProbability = 0, GrayscaleProbability = 0 };
        var eval = new ImageTransform(new ImageTransformOptions { ImageSize = 20 }).ToChw(image);
        var augmented = Augment(new ImageAugmenter(20, options), image, 5);
        Assert.Equal(eval, augmented);
    }

    [Fact]
    public void JitterAndGreyAreAppliedWithTheirProbabilities()
    {
        var counts = new Dictionary<string, int>();
        var pixel = new float[3];
        for (int i = 0; i < 4000; i++)
        {
            string what = ColorJitter.Apply(pixel, AugmentationOptions.OpenVision, new DataRandom(9, i));
            counts[what] = counts.GetValueOrDefault(what) + 1;
        }
        double jitter = (counts.GetValueOrDefault("jitter") + counts.GetValueOrDefault("jitter+gray")) / 4000.0;
        double gray = (counts.GetValueOrDefault("gray") + counts.GetValueOrDefault("jitter+gray")) / 4000.0;
        Assert.InRange(jitter, 0.77, 0.83);
        Assert.InRange(gray, 0.17, 0.23);
    }

    [Fact]
    public void ColourOperationsDoWhatTheySay()
    {
        float[] red = [1f, 0f, 0f, 0.2f, 0.4f, 0.6f];
        var shifted = (float[])red.Clone();
        ColorJitter.ShiftHue(shifted, 1f / 3);                        // red → green; the other pixel keeps its S and V
        Assert.Equal([0f, 1f, 0f], shifted[..3]);
        Assert.Equal(0.6f, shifted[3..].Max(), 5);
        Assert.Equal(0.2f, shifted[3..].Min(), 5);
        var grey = (float[])red.Clone();
        ColorJitter.AdjustSaturation(grey, 0);
        Assert.Equal(grey[0], grey[1]);
        Assert.Equal(0.299f, grey[0], 6);
        var flat = (float[])red.Clone();
        ColorJitter.AdjustContrast(flat, 0);
        Assert.All(flat, v => Assert.Equal(flat[0], v, 6));
        var bright = (float[])red.Clone();
        ColorJitter.Scale(bright, 1.5f);
        Assert.Equal([1f, 0f, 0f, 0.3f, 0.6f, 0.90000004f], bright);
        ColorJitter.Grayscale(red);
        Assert.Equal(red[3], red[5]);
    }
}
