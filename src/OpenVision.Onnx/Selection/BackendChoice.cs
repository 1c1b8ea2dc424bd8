using System.Globalization;

namespace OpenVision.Onnx.Selection;

/// <summary>How fast each candidate path (e.g. "torch" and "onnx") encoded images at each measured batch size, for one
/// model on one machine (<see cref="BackendChoiceMeasurement"/>), as <see cref="FastestBackend"/> and
/// <see cref="FastPrecision"/> use it and <see cref="BackendChoiceCache"/> keeps it.</summary>
/// <param name="Model">Config name.</param>
/// <param name="ImageSize">Resolution measured.</param>
/// <param name="Cpu">CPU model and logical processors it was measured on.</param>
/// <param name="Candidates">The paths compared; the first is the default one and wins ties.</param>
/// <param name="Rates">Measured batch sizes, ascending.</param>
/// <param name="LoadAverage">The 1-minute load average when measured (NaN when unknown): a busy machine skews the choice.</param>
/// <param name="MeasuredAtUtc">When.</param>
public sealed record BackendChoice(string Model, int ImageSize, string Cpu, IReadOnlyList<string> Candidates, IReadOnlyList<BackendRate> Rates, double LoadAverage, DateTime MeasuredAtUtc)
{
    /// <summary>The measured batch size nearest to <paramref name="batchSize"/> on a log scale (ties go to the larger).</summary>
    public BackendRate RateFor(int batchSize)
    {
        if (Rates.Count == 0) throw new InvalidOperationException($"{Model}: the backend choice holds no measurement");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        double log = Math.Log(batchSize);
        return Rates.OrderBy(r => Math.Abs(Math.Log(r.BatchSize) - log)).ThenByDescending(r => r.BatchSize).First();
    }

    /// <summary>The candidate fastest at the measured batch size nearest to <paramref name="batchSize"/>.</summary>
    public string FastestAt(int batchSize) => Candidates[RateFor(batchSize).Fastest];

    /// <summary>The candidate with the highest geometric mean rate over the measured batch sizes (ties: the earlier):
    /// one path for every batch size.</summary>
    public string FastestOverall()
    {
        int best = 0;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < Candidates.Count; i++)
        {
            double score = Rates.Average(r => Math.Log(Math.Max(r.ImagesPerSecond[i], 1e-12)));
            if (score > bestScore) (best, bestScore) = (i, score);
        }
        return Candidates[best];
    }

    /// <summary>True when the choice covers exactly these candidates, in this order, with a rate for each.</summary>
    public bool Covers(IReadOnlyList<string> candidates) =>
        Candidates.SequenceEqual(candidates) && Rates.Count > 0 && Rates.All(r => r.ImagesPerSecond.Count == candidates.Count);

    /// <summary>One line: every candidate's rate per measured batch size, the fastest marked, the load and the date.</summary>
    public string Describe() =>
        $"{Model} at {ImageSize} px: " + string.Join("; ", Rates.Select(r => $"batch {r.BatchSize} " + string.Join(", ", Candidates.Select((c, i) =>
            string.Create(CultureInfo.InvariantCulture, $"{c} {r.ImagesPerSecond[i]:F1}{(i == r.Fastest ? "*" : "")}"))))) +
        string.Create(CultureInfo.InvariantCulture, $" images/s (* fastest); measured {MeasuredAtUtc:yyyy-MM-dd HH:mm}Z at load {LoadAverage:F1}");
}
