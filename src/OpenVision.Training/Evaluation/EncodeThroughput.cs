using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace OpenVision.Training.Evaluation;

/// <summary>How fast the image loop of an evaluation ran: images encoded over the wall time of the loop (reading,
/// decoding and transforming on worker threads overlapped with the image tower, as an evaluation runs), so that
/// notes can quote an evaluation rate. Skipped samples are not counted as images. A figure from a busy machine is
/// lower; speed comparisons belong to <c>openvision bench</c>.</summary>
/// <param name="Images">Images that went through the image tower.</param>
/// <param name="Seconds">Wall time of the loop, from the first read to the last batch.</param>
public sealed record EncodeThroughput(long Images, double Seconds)
{
    /// <summary>Images per second (0 when no time was measured).</summary>
    public double ImagesPerSecond => Seconds > 0 ? Images / Seconds : 0;

    /// <summary>The rate of a loop timed by <paramref name="clock"/>.</summary>
    public static EncodeThroughput From(long images, Stopwatch clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return new EncodeThroughput(images, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One line such as "10000 images in 12.5 s (800.0 images/s)".</summary>
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Images} images in {Seconds:F1} s ({ImagesPerSecond:F1} images/s)");

    /// <summary>The figures as a JSON object for a result's details.</summary>
    public JsonObject ToJson() => new()
    {
        ["images"] = Images,
        ["seconds"] = Math.Round(Seconds, 3),
        ["images_per_second"] = Math.Round(ImagesPerSecond, 2),
    };
}
