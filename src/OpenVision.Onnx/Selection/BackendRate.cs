namespace OpenVision.Onnx.Selection;

/// <summary>One batch size of a <see cref="BackendChoice"/>: every candidate's measured encode_image rate.</summary>
/// <param name="BatchSize">Images per call.</param>
/// <param name="ImagesPerSecond">Median rate of each candidate, in the order of <see cref="BackendChoice.Candidates"/>.</param>
public sealed record BackendRate(int BatchSize, IReadOnlyList<double> ImagesPerSecond)
{
    /// <summary>Index of the fastest candidate; a tie goes to the earlier one (the first is the default path).</summary>
    public int Fastest
    {
        get
        {
            int best = 0;
            for (int i = 1; i < ImagesPerSecond.Count; i++) if (ImagesPerSecond[i] > ImagesPerSecond[best]) best = i;
            return best;
        }
    }
}
