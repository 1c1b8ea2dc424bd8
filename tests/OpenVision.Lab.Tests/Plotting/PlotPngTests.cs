using System.Buffers.Binary;
using OpenVision.Lab.Plotting;
using OpenVision.Training;
using OpenVision.Vision;

namespace OpenVision.Lab.Tests.Plotting;

public class PlotPngTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void LineChartIsAValidPngOfTheRequestedSizeWithVisibleText()
    {
        var chart = new LineChart { Title = "LOSS", XLabel = "step", YLabel = "loss", LogY = true, Width = 640, Height = 400, ForceBitmapFont = true }
            .Add("train", [1, 2, 3, 4], [4.0, 2.0, 1.0, 0.5])
            .Add("val", [1, 3], [5.0, double.NaN]);
        var png = chart.RenderPng();
        var image = Decode(png);
        Assert.Equal((640, 400), (image.Width, image.Height));
        // The title is drawn centred at the top: dark pixels there prove labels render (no system font needed).
        Assert.True(DarkPixels(image, 250, 0, 140, 40) > 40);
        // The y label, rotated, sits at the left edge.
        Assert.True(DarkPixels(image, 0, 150, 40, 100) > 20);
    }

    [Fact]
    public void EmptyAndDegenerateChartsStillRender()
    {
        Assert.Equal((300, 200), Size(new LineChart { Width = 300, Height = 200 }.RenderPng()));
        Assert.Equal((300, 200), Size(new LineChart { Width = 300, Height = 200 }.Add("flat", [3.0, 3.0, 3.0]).RenderPng()));
        Assert.Throws<ArgumentException>(() => new LineChart().Add("bad", [1.0, 2.0], [1.0]));
    }

    [Fact]
    public void ConfusionMatrixIsAValidPngInViridis()
    {
        long[,] confusion = { { 5, 0, 0 }, { 1, 3, 0 }, { 0, 0, 0 } };
        var png = ConfusionMatrixPlot.RenderPng(confusion, ["cat", "dog", "bird"], "toy", forceBitmapFont: true);
        var image = Decode(png);
        // 3 classes → 48-pixel cells: the grid alone is 144 pixels; labels, colour bar and title add to it.
        Assert.InRange(image.Width, 144 + 100, 800);
        Assert.InRange(image.Height, 144 + 60, 800);
        var rgb = image.ToRgb();
        Assert.True(Contains(rgb, 253, 231, 37));     // viridis(1): the "cat" row is all on the diagonal
        Assert.True(Contains(rgb, 68, 1, 84));        // viridis(0)
        Assert.True(Contains(rgb, 200, 200, 200));    // the empty "bird" row is grey (no samples)
    }

    [Fact]
    public void HeatMapSizeFollowsCellSize()
    {
        var values = new double[2, 5];
        var small = Size(HeatMap.RenderPng(values, ["a", "b"], ["1", "2", "3", "4", "5"], new HeatMapOptions { CellSize = 20, ForceBitmapFont = true }));
        var large = Size(HeatMap.RenderPng(values, ["a", "b"], ["1", "2", "3", "4", "5"], new HeatMapOptions { CellSize = 30, ForceBitmapFont = true }));
        Assert.Equal(5 * 10, large.Width - small.Width);
        Assert.Equal(2 * 10, large.Height - small.Height);
        Assert.Throws<ArgumentException>(() => ConfusionMatrixPlot.RenderPng(new long[101, 101], Enumerable.Range(0, 101).Select(i => $"{i}").ToList()));
    }

    [Fact]
    public void SaveWritesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ov-plot-{Guid.NewGuid():N}.png");
        try
        {
            new LineChart { Width = 320, Height = 240 }.Add("x", [1.0, 2.0]).Save(path);
            Assert.Equal(PngSignature, File.ReadAllBytes(path)[..8]);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(0, 1, new[] { 0, 0.2, 0.4, 0.6, 0.8, 1 })]
    [InlineData(-3, 17, new[] { 0.0, 5, 10, 15 })]
    [InlineData(0.5, 0.5, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1 })]
    public void LinearTicksUseNiceSteps(double min, double max, double[] expected)
    {
        var (ticks, _) = AxisTicks.Linear(min, max, 6);
        Assert.Equal(expected, ticks.Select(t => Math.Round(t, 9)));
    }

    [Fact]
    public void LogTicksAndLabels()
    {
        Assert.Equal([1, 10, 100], AxisTicks.Log(0.3, 700));
        Assert.Equal([0.5, 1, 2, 5], AxisTicks.Log(0.4, 6));
        Assert.Equal("5e-4", AxisTicks.Format(0.0005, 0.0001));
        Assert.Equal("1500", AxisTicks.Format(1500, 500));
        Assert.Equal("0.25", AxisTicks.Format(0.25, 0.05));
        Assert.Equal("0", AxisTicks.Format(0, 0.05));
    }

    private static DecodedImage Decode(byte[] png)
    {
        Assert.Equal(PngSignature, png[..8]);
        return ImageDecoder.Decode(png, "plot.png");
    }

    // Width and height from the IHDR chunk.
    private static (int Width, int Height) Size(byte[] png)
    {
        Assert.Equal(PngSignature, png[..8]);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    private static int DarkPixels(DecodedImage image, int x, int y, int width, int height)
    {
        var rgb = image.ToRgb();
        int count = 0;
        for (int r = y; r < y + height; r++)
            for (int c = x; c < x + width; c++)
            {
                int i = (r * image.Width + c) * 3;
                if (rgb[i] < 100 && rgb[i + 1] < 100 && rgb[i + 2] < 100) count++;
            }
        return count;
    }

    private static bool Contains(byte[] rgb, byte r, byte g, byte b)
    {
        for (int i = 0; i < rgb.Length; i += 3)
            if (rgb[i] == r && rgb[i + 1] == g && rgb[i + 2] == b) return true;
        return false;
    }
}
