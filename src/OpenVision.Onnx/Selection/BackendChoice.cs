using System.Globalization;

namespace OpenVision.Onnx.Selection;

/// <summary>Which backend runs encode_image at each batch size for one model on one machine, from a measurement
/// (<see cref="BackendChoiceMeasurement"/>), as <see cref="FastestBackend"/> uses and <see cref="BackendChoiceCache"/> keeps.</summary>
/// <param name="Model">Config name.</param>
/// <param name="ImageSize">Resolution measured.</param>
/// <param name="Cpu">CPU model and logical processors it was measured on.</param>
/// <param name="Rates">Measured batch sizes, ascending.</param>
/// <param name="LoadAverage">The 1-minute load average when measured (NaN when unknown): a busy machine skews the choice.</param>
/// <param name="MeasuredAtUtc">When.</param>
public sealed record BackendChoice(string Model, int ImageSize, string Cpu, IReadOnlyList<BackendRate> Rates, double LoadAverage, DateTime MeasuredAtUtc)
{
    /// <summary>The measured batch size nearest to <paramref name="batchSize"/> on a log scale (ties go to the larger).</summary>
    public BackendRate RateFor(int batchSize)
    {
        if (Rates.Count == 0) throw new InvalidOperationException($"{Model}: the backend choice holds no measurement");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        double log = Math.Log(batchSize);
        return Rates.OrderBy(r => Math.Abs(Math.Log(r.BatchSize) - log)).ThenByDescending(r => r.BatchSize).First();
    }

    /// <summary>True when ONNX Runtime runs a batch of <paramref name="batchSize"/> images.</summary>
    public bool UsesOnnx(int batchSize) => RateFor(batchSize).OnnxWins;

    /// <summary>One line: the backend per measured batch size with both rates, the load and the date.</summary>
    public string Describe() =>
        $"{Model} at {ImageSize} px: " + string.Join(", ", Rates.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"batch {r.BatchSize} -> {(r.OnnxWins ? "onnx" : "torch")} (torch {r.TorchImagesPerSecond:F1}, onnx {r.OnnxImagesPerSecond:F1} images/s)"))) +
        string.Create(CultureInfo.InvariantCulture, $"; measured {MeasuredAtUtc:yyyy-MM-dd HH:mm}Z at load {LoadAverage:F1}");
}
