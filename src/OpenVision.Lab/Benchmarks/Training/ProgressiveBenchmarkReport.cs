using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>One evaluation during a run.</summary>
/// <param name="TrainingSeconds">Training time so far (evaluation excluded).</param>
/// <param name="Samples">Training samples seen so far.</param>
/// <param name="Stage">Stage being trained (for a stage-end point: the stage just finished).</param>
/// <param name="TrainingImageSize">That stage's resolution.</param>
/// <param name="Top1">Zero-shot top-1 at the final resolution: the comparable number.</param>
/// <param name="Top1AtTrainingSize">Zero-shot top-1 at the resolution being trained (equal to <see cref="Top1"/> there), for information.</param>
public sealed record AccuracyPoint(double TrainingSeconds, long Samples, int Stage, int TrainingImageSize, double Top1, double Top1AtTrainingSize);

/// <summary>What one stage of a run did.</summary>
/// <param name="Stage">Stage index.</param>
/// <param name="ImageSize">Resolution.</param>
/// <param name="BatchSize">Samples per step.</param>
/// <param name="Samples">Samples trained (as planned).</param>
/// <param name="PeakLr">Peak learning rate.</param>
/// <param name="WarmupSamples">Warmup samples.</param>
/// <param name="PlannedSeconds">Samples / calibrated rate.</param>
/// <param name="TrainingSeconds">Measured training time of the stage (evaluation excluded).</param>
/// <param name="SamplesPerSecond">Samples / training time.</param>
/// <param name="CalibratedSamplesPerSecond">The rate the plan assumed.</param>
/// <param name="PeakWorkingSetBytes">Peak resident memory of the process while this stage trained (evaluation excluded).</param>
public sealed record StageReport(int Stage, int ImageSize, int BatchSize, long Samples, double PeakLr, long WarmupSamples, double PlannedSeconds,
    double TrainingSeconds, double SamplesPerSecond, double CalibratedSamplesPerSecond, long PeakWorkingSetBytes);

/// <summary>One of the two runs.</summary>
/// <param name="Name">"fixed" or "progressive".</param>
/// <param name="Description">Its schedule in words, e.g. "16 px → 24 px".</param>
/// <param name="Stages">Per-stage figures.</param>
/// <param name="Curve">Accuracy against training time, times ascending, starting at 0 (the untrained model).</param>
/// <param name="TrainingSeconds">Total training time.</param>
/// <param name="EvaluationSeconds">Wall time spent evaluating (not in <see cref="TrainingSeconds"/>).</param>
/// <param name="BaselineWorkingSetBytes">Resident memory before the run's model was built (data set, runtime).</param>
public sealed record RunReport(string Name, string Description, IReadOnlyList<StageReport> Stages, IReadOnlyList<AccuracyPoint> Curve,
    double TrainingSeconds, double EvaluationSeconds, long BaselineWorkingSetBytes)
{
    /// <summary>Accuracy at the end of the run (final resolution).</summary>
    public double FinalTop1 => Curve[^1].Top1;

    /// <summary>The highest stage peak.</summary>
    public long PeakWorkingSetBytes => Stages.Max(s => s.PeakWorkingSetBytes);

    /// <summary>(training seconds, top-1 at the final resolution) pairs for <see cref="SpeedUpResult.Compute"/>.</summary>
    public IReadOnlyList<(double Seconds, double Top1)> Series() => Curve.Select(p => (p.TrainingSeconds, p.Top1)).ToList();
}

/// <summary>Fixed high resolution against the progressive schedule at the same training-time budget.</summary>
/// <param name="Model">Model architecture name.</param>
/// <param name="BudgetSeconds">Training-time budget of each run.</param>
/// <param name="EvalEverySeconds">Evaluation interval in training time.</param>
/// <param name="EvalImages">Test images per evaluation.</param>
/// <param name="FinalImageSize">The resolution every accuracy in the curves is measured at.</param>
/// <param name="Clock">"wall" or "simulated".</param>
/// <param name="PeakMemoryPerStage">True when each stage's peak was measured from a reset high-water mark (Linux);
/// false when it is the process's peak since start (so later stages include earlier ones).</param>
/// <param name="Calibration">Measured speed per resolution and batch size, from which both runs were planned.</param>
/// <param name="Fixed">The single-stage run at the final resolution.</param>
/// <param name="Progressive">The scaled progressive schedule.</param>
/// <param name="SpeedUp">Time to the fixed run's final accuracy, fixed / progressive.</param>
public sealed record ProgressiveBenchmarkReport(string Model, double BudgetSeconds, double EvalEverySeconds, int EvalImages, int FinalImageSize,
    string Clock, bool PeakMemoryPerStage, IReadOnlyList<CalibratedRate> Calibration, RunReport Fixed, RunReport Progressive, SpeedUpResult SpeedUp);
