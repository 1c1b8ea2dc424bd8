namespace OpenVision.Onnx.Selection;

/// <summary>What <see cref="FastPrecision.LoadEncoder"/> opened: the encoder (the caller disposes it), the path it runs
/// and the measurement that picked it.</summary>
/// <param name="Encoder">The encoder on the picked path.</param>
/// <param name="Picked">One of <see cref="FastPrecision.Candidates"/>.</param>
/// <param name="Choice">Every candidate's measured rates.</param>
/// <param name="FromCache">True when the measurement came from the cache rather than this process.</param>
public sealed record FastPath(OpenVisionEncoder Encoder, string Picked, BackendChoice Choice, bool FromCache)
{
    /// <summary>One line for logs: what was picked, why, and what it costs in accuracy.</summary>
    public string Describe() =>
        $"precision fast: {Picked} ({(FromCache ? "cached measurement" : "measured now")}: {Choice.Describe()}). " +
        FastPrecision.AgreementNote;
}
