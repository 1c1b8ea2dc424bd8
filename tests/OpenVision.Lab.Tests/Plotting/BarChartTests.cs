using OpenVision.Lab.Benchmarks;
using OpenVision.Lab.Plotting;
using OpenVision.Vision;

namespace OpenVision.Lab.Tests.Plotting;

/// <summary>The bars are drawn to scale and in their series' colour, the same colour in every panel, and
/// <c>bench --plot</c> turns a report's rows into one panel per model.</summary>
public class BarChartTests
{
    [Fact]
    public void BarsAreDrawnToScaleAndMissingValuesDrawNone()
    {
        var chart = new BarChart { Title = "T", YLabel = "images/s", GroupLabel = "batch size", PanelWidth = 400, Height = 420, ForceBitmapFont = true }
            .Add(new BarPanel("model", ["1", "8", "32"], [new BarSeries("fast", [30, 60, 45]), new BarSeries("slow", [15, double.NaN, 7.5])]));
        var image = ImageDecoder.Decode(chart.RenderPng(), "bars.png");
        Assert.Equal((400, 420), (image.Width, image.Height));

        var fast = Bars(image, chart.ColorOf("fast"));
        var slow = Bars(image, chart.ColorOf("slow"));
        Assert.Equal(3, fast.Count);
        Assert.Equal(2, slow.Count);                               // no bar for the NaN
        double unit = fast[0].Height / 30.0;                       // pixels per image/s
        Assert.True(fast[1].Height > image.Height * 2 / 5, $"the tallest bar is {fast[1].Height} of {image.Height} pixels"); // below title, legend and labels
        Assert.All(fast.Zip([30.0, 60, 45]).Concat(slow.Zip([15.0, 7.5])), pair => Assert.InRange(pair.First.Height, pair.Second * unit - 1.5, pair.Second * unit + 1.5));
        // Groups in order left to right, each slow bar right of its group's fast bar, all standing on one axis.
        Assert.True(fast[0].Left < slow[0].Left && slow[0].Left < fast[1].Left && fast[2].Left < slow[1].Left);
        Assert.Single(fast.Concat(slow).Select(b => b.Bottom).Distinct());
    }

    [Fact]
    public void ASeriesKeepsItsColourInEveryPanel()
    {
        var chart = new BarChart { PanelWidth = 300, Height = 300, ForceBitmapFont = true }
            .Add(new BarPanel("a", ["1"], [new BarSeries("x", [1]), new BarSeries("y", [2])]))
            .Add(new BarPanel("b", ["1"], [new BarSeries("y", [2]), new BarSeries("z", [3]), new BarSeries("x", [1])]));
        Assert.Equal(["x", "y", "z"], chart.SeriesNames);
        Assert.Equal(3, chart.SeriesNames.Select(chart.ColorOf).Distinct().Count());
        var image = ImageDecoder.Decode(chart.RenderPng(), "bars.png");
        Assert.Equal(600, image.Width);
        var x = Bars(image, chart.ColorOf("x"));
        Assert.Equal(2, x.Count);
        Assert.True(x[0].Left < 300 && x[1].Left >= 300);          // one in each panel
        Assert.InRange(x[1].Height, x[0].Height * 2 / 3 - 2, x[0].Height * 2 / 3 + 2); // panel b's axis runs to 3, a's to 2
    }

    [Fact]
    public void AValueCountThatDoesNotMatchTheGroupsIsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new BarChart().Add(new BarPanel("m", ["1", "8"], [new BarSeries("s", [1.0])])));
        Assert.Contains("'s': 1 values for 2 groups", error.Message);
    }

    [Theory]
    [InlineData(185.3, "185")]
    [InlineData(98.74, "98.7")]
    [InlineData(9.137, "9.14")]
    [InlineData(0.9123, "0.912")]
    public void ValuesAreWrittenWithThreeSignificantDigits(double value, string text) => Assert.Equal(text, BarChart.Format(value));

    [Fact]
    public void TheBenchPlotHasAPanelPerModelAndABarPerPathThatRan()
    {
        BenchmarkResult Row(string model, string task, string dtype, int batch, double rate) => new(model, task, dtype, batch, rate, rate * 2, null);
        var report = new ThroughputReport(
            new MachineInfo("Test CPU", 2, 3000, 64, true),
            new MeasuredPeak("Test CPU", 2, 372, "fp32 FMA loop", 853, "bf16 dot-product loop", DateTime.UtcNow),
            [
                Row("tiny", "encode_image", "Float32", 1, 98.7), Row("tiny", "encode_image", "Float32", 8, 110.8),
                Row("tiny", "encode_image[onnx]", "Float32", 1, 63.7), Row("tiny", "encode_image[onnx]", "Float32", 8, 62.2),
                Row("tiny", "encode_image[ort-plain]", "Float32", 1, 63.6), Row("tiny", "encode_text", "Float32", 8, 500),
                Row("tiny", "encode_image[onnx-int8]", "Int8", 8, 100.7), Row("tiny", "end_to_end", "Float32", 8, 90),
                Row("base", "encode_image", "Float32", 1, 9.1), Row("base", "encode_image", "BFloat16", 1, 17.5),
            ],
            []);
        var chart = ThroughputPlot.Chart(report, forceBitmapFont: true);
        Assert.Equal(["tiny", "base"], chart.Panels.Select(p => p.Title));
        var tiny = chart.Panels[0];
        Assert.Equal(["1", "8"], tiny.Groups);
        Assert.Equal(["TorchSharp fp32 (default)", "ONNX Runtime fp32", "ONNX Runtime int8"], tiny.Series.Select(s => s.Name));
        Assert.Equal([98.7, 110.8], tiny.Series[0].Values);
        Assert.Equal([63.7, 62.2], tiny.Series[1].Values);
        Assert.True(double.IsNaN(tiny.Series[2].Values[0]));
        Assert.Equal(100.7, tiny.Series[2].Values[1]);
        var base16 = chart.Panels[1];
        Assert.Equal(["TorchSharp fp32 (default)", "TorchSharp bf16"], base16.Series.Select(s => s.Name));
        Assert.Contains("Test CPU, 2 cores", chart.Subtitle);
        var image = ImageDecoder.Decode(chart.RenderPng(), "bench.png");
        Assert.Equal(2 * chart.PanelWidth, image.Width);
    }

    private sealed record Bar(int Left, int Right, int Top, int Bottom)
    {
        public int Height => Bottom - Top + 1;
    }

    // The bars of one colour: runs of adjacent columns whose longest vertical run of that exact colour is over 20
    // pixels (the legend's swatch of the same colour is 14 pixels tall), left to right.
    private static List<Bar> Bars(DecodedImage image, string hex)
    {
        byte r = Convert.ToByte(hex[1..3], 16), g = Convert.ToByte(hex[3..5], 16), b = Convert.ToByte(hex[5..7], 16);
        var rgb = image.ToRgb();
        var columns = new (int Top, int Bottom)?[image.Width];
        for (int x = 0; x < image.Width; x++)
        {
            int runStart = -1, bestLength = 0;
            for (int y = 0; y <= image.Height; y++)
            {
                int i = (y * image.Width + x) * 3;
                bool match = y < image.Height && rgb[i] == r && rgb[i + 1] == g && rgb[i + 2] == b;
                if (match && runStart < 0) runStart = y;
                if (!match && runStart >= 0)
                {
                    if (y - runStart > bestLength) { bestLength = y - runStart; columns[x] = (runStart, y - 1); }
                    runStart = -1;
                }
            }
            if (bestLength <= 20) columns[x] = null;
        }
        var bars = new List<Bar>();
        for (int x = 0; x < image.Width; x++)
        {
            if (columns[x] is not { } column) continue;
            int left = x;
            while (x + 1 < image.Width && columns[x + 1] == column) x++;
            bars.Add(new Bar(left, x, column.Top, column.Bottom));
        }
        return bars;
    }
}
