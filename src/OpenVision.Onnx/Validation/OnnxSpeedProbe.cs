using System.Diagnostics;
using OpenVision.Onnx.Graph;
using OpenVision.Onnx.Runtime;

namespace OpenVision.Onnx.Validation;

/// <summary>A short timing of one precision's vision graph, recorded in the manifest when asked for.</summary>
internal static class OnnxSpeedProbe
{
    public const int BatchSize = 8;

    public static OnnxSpeed Measure(string folder, OnnxModelFiles files, int imageSize, OnnxRuntimeOptions runtime)
    {
        using var vision = new OnnxTower(Path.Combine(folder, files.Vision), runtime with { });
        var random = new Random(0);
        var pixels = new float[BatchSize * 3 * imageSize * imageSize];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)(random.NextDouble() * 2 - 1);
        long[] shape = [BatchSize, 3, imageSize, imageSize];
        string[] outputs = [VisionGraph.FeaturesName];
        vision.Run(pixels, shape, outputs);                                           // warm-up: first run allocates
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || (total.Elapsed.TotalSeconds < 3 && times.Count < 20))
        {
            var one = Stopwatch.StartNew();
            vision.Run(pixels, shape, outputs);
            times.Add(one.Elapsed.TotalSeconds);
        }
        times.Sort();
        return new OnnxSpeed(files.Precision, BatchSize, BatchSize / times[times.Count / 2], runtime.IntraOpThreads);
    }
}
