using OpenVision.Models;
using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>Zero-shot top-1 of <paramref name="model"/> on the first <paramref name="images"/> test images, fed at
/// <paramref name="imageSize"/> px. The model is in evaluation mode and gradients are off when it is called.</summary>
public delegate double ZeroShotTop1(OpenVisionModel model, int imageSize, int images);

/// <summary>Settings of <see cref="ProgressiveBenchmark"/>.</summary>
public sealed record ProgressiveBenchmarkOptions
{
    /// <summary>Training time of each run.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Evaluate every this much training time (at the first step boundary after each multiple).</summary>
    public TimeSpan EvalEvery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Test images per evaluation.</summary>
    public int EvalImages { get; init; } = 1000;

    /// <summary>Untimed steps before the calibration's timed steps (data pipeline start, first allocations).</summary>
    public int CalibrationWarmupSteps { get; init; } = 2;

    /// <summary>Timed calibration steps per resolution.</summary>
    public int CalibrationSteps { get; init; } = 5;

    /// <summary>Makes the clock of each calibration and run; a wall clock unless a test simulates one.</summary>
    public Func<ITrainingClock> Clock { get; init; } = () => new WallTrainingClock();

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad setting.</summary>
    public ProgressiveBenchmarkOptions Validate()
    {
        if (Budget <= TimeSpan.Zero) throw new ArgumentException($"the budget must be positive, not {Budget.TotalSeconds} s");
        if (EvalEvery <= TimeSpan.Zero) throw new ArgumentException($"the evaluation interval must be positive, not {EvalEvery.TotalSeconds} s");
        if (EvalImages < 1) throw new ArgumentException($"at least one test image must be evaluated, not {EvalImages}");
        if (CalibrationWarmupSteps < 1 || CalibrationSteps < 1) throw new ArgumentException("calibration needs at least one untimed and one timed step");
        return this;
    }
}
