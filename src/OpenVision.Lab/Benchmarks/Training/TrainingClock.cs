using System.Diagnostics;
using OpenVision.Training;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>The benchmark's notion of training time: it runs while a model trains and is stopped while it is
/// evaluated, so evaluation never counts against a run's budget.</summary>
public interface ITrainingClock
{
    /// <summary>Training time accumulated so far.</summary>
    TimeSpan Elapsed { get; }

    /// <summary>Whether it is counting now.</summary>
    bool IsRunning { get; }

    /// <summary>Starts or resumes counting.</summary>
    void Start();

    /// <summary>Stops counting (evaluation follows).</summary>
    void Stop();

    /// <summary>Called after every optimizer step; a simulated clock advances here, a wall clock ignores it.</summary>
    void StepDone(int imageSize, int batchSize);
}

/// <summary>Real wall-clock time (a stopwatch); what the benchmark measures.</summary>
public sealed class WallTrainingClock : ITrainingClock
{
    private readonly Stopwatch stopwatch = new();

    /// <inheritdoc/>
    public TimeSpan Elapsed => stopwatch.Elapsed;

    /// <inheritdoc/>
    public bool IsRunning => stopwatch.IsRunning;

    /// <inheritdoc/>
    public void Start() => stopwatch.Start();

    /// <inheritdoc/>
    public void Stop() => stopwatch.Stop();

    /// <inheritdoc/>
    public void StepDone(int imageSize, int batchSize) { }
}

/// <summary>A clock that advances by a fixed cost per trained sample at each resolution and by nothing else, so a
/// benchmark's plan, evaluation times and report do not depend on how fast (or how loaded) the machine is. For tests.</summary>
/// <param name="secondsPerSample">Simulated seconds one training sample costs at a given image size.</param>
public sealed class SimulatedTrainingClock(Func<int, double> secondsPerSample) : ITrainingClock
{
    private double seconds;
    private bool running;

    /// <inheritdoc/>
    public TimeSpan Elapsed => TimeSpan.FromSeconds(seconds);

    /// <inheritdoc/>
    public bool IsRunning => running;

    /// <inheritdoc/>
    public void Start() => running = true;

    /// <inheritdoc/>
    public void Stop() => running = false;

    /// <inheritdoc/>
    public void StepDone(int imageSize, int batchSize)
    {
        if (running) seconds += batchSize * secondsPerSample(imageSize);
    }
}
