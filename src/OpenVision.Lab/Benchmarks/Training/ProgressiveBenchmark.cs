using System.Diagnostics;
using OpenVision.Lab.Plotting;
using OpenVision.Training;
using OpenVision.Training.Data;
using OpenVision.Training.Models;
using TorchSharp;

namespace OpenVision.Lab.Benchmarks.Training;

/// <summary>The paper's efficiency claim as a measurement: the same model on the same data for the same training-time
/// budget, once at a fixed high resolution and once with a progressive low→high schedule, with zero-shot accuracy
/// at the final resolution against training time for both.</summary>
/// <remarks>
/// Order: (1) calibration: a few steps at each (resolution, batch size) of <c>schedule</c> give samples/s (batch /
/// median step time);
/// (2) planning (<see cref="BudgetPlan"/>): the fixed run gets budget × rate samples at the final resolution, the
/// progressive run the schedule with every stage scaled by one factor so that its planned time is the budget; each
/// stage's cosine therefore ends at the budget if the calibration holds (the runs are not cut off at the clock: a
/// cut-off would leave a cosine unfinished, so a run may end a little before or after the budget and reports its
/// real time); (3) the fixed run, then the progressive run, each from the same initialisation and data order,
/// stopping the clock for every evaluation. Only stage-end checkpoints are written (they count as training time).
/// </remarks>
/// <param name="schedule">The progressive schedule to compare (its last stage's resolution is the fixed run's).</param>
/// <param name="data">Training data; both runs read it from the start.</param>
/// <param name="evaluate">Zero-shot accuracy, e.g. the demo's.</param>
/// <param name="workFolder">Calibration and run folders (metrics, checkpoints) go under here; earlier ones are replaced.</param>
/// <param name="options">Budget, evaluation interval, calibration length, clock.</param>
public sealed class ProgressiveBenchmark(TrainConfig schedule, ITrainingData data, ZeroShotTop1 evaluate, string workFolder, ProgressiveBenchmarkOptions options)
{
    private readonly int finalSize = schedule.Stages.Count > 0 ? schedule.Stages[^1].ImageSize : throw new ArgumentException("the schedule has no stages");

    /// <summary>Calibrates, runs both and compares them.</summary>
    /// <param name="log">One-line status messages (calibration, plan, every evaluation).</param>
    /// <param name="training">Every training step of both runs.</param>
    /// <param name="cancellationToken">Stops at the next step.</param>
    public ProgressiveBenchmarkReport Run(IProgress<string>? log = null, IProgress<TrainingProgress>? training = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        schedule.Validate();
        Directory.CreateDirectory(workFolder);
        var rates = Calibrate(log, cancellationToken);
        // Only stage-end checkpoints: periodic ones would be timed training work that says nothing about resolution.
        var fixedConfig = BudgetPlan.Fixed(schedule, options.Budget, rates) with { CheckpointEverySteps = int.MaxValue };
        var progressiveConfig = BudgetPlan.Progressive(schedule, options.Budget, rates) with { CheckpointEverySteps = int.MaxValue };
        string model = "";
        var fixedRun = RunOne("fixed", fixedConfig, rates, name => model = name, log, training, cancellationToken);
        var progressiveRun = RunOne("progressive", progressiveConfig, rates, _ => { }, log, training, cancellationToken);
        var probe = options.Clock();
        return new ProgressiveBenchmarkReport(model, options.Budget.TotalSeconds, options.EvalEvery.TotalSeconds, options.EvalImages, finalSize,
            probe is SimulatedTrainingClock ? "simulated" : "wall", fixedRun.PeakPerStage && progressiveRun.PeakPerStage, rates,
            fixedRun.Report, progressiveRun.Report, SpeedUpResult.Compute(fixedRun.Report.Series(), progressiveRun.Report.Series()));
    }

    /// <summary>Samples/s of every (resolution, batch size) in the schedule: a fresh model trains untimed + timed steps,
    /// and the rate is batch / the median timed step.</summary>
    private List<CalibratedRate> Calibrate(IProgress<string>? log, CancellationToken cancellationToken)
    {
        var rates = new List<CalibratedRate>();
        foreach (var (size, batch) in schedule.Stages.Select(s => (s.ImageSize, s.BatchSize)).Distinct())
        {
            string folder = Fresh(Path.Combine(workFolder, "calibration", $"{size}px-batch{batch}"));
            int steps = options.CalibrationWarmupSteps + options.CalibrationSteps;
            var config = schedule with
            {
                Stages = [new TrainStage { ImageSize = size, BatchSize = batch, Samples = (long)batch * steps, PeakLr = schedule.Stages[0].PeakLr }],
                CheckpointEverySteps = int.MaxValue,
            };
            var clock = options.Clock();
            var times = new List<double>();
            clock.Start();
            using (new Trainer(config, data, folder).Run(new Callback<TrainingProgress>(p =>
                   {
                       clock.StepDone(size, batch);
                       times.Add(clock.Elapsed.TotalSeconds);
                   }), cancellationToken: cancellationToken))
            {
            }
            clock.Stop();
            // The median step: one slow step (a collection, a neighbour's burst of work) does not move the plan.
            var durations = times.Skip(options.CalibrationWarmupSteps).Select((t, i) => t - times[options.CalibrationWarmupSteps - 1 + i]).Order().ToList();
            double median = durations.Count % 2 == 1 ? durations[durations.Count / 2] : (durations[durations.Count / 2 - 1] + durations[durations.Count / 2]) / 2;
            var rate = new CalibratedRate(size, batch, batch / median);
            rates.Add(rate);
            log?.Report($"calibration: {size} px at batch {batch}: {rate.SamplesPerSecond:F1} samples/s (median of {options.CalibrationSteps} steps after {options.CalibrationWarmupSteps} untimed)");
            Directory.Delete(folder, recursive: true);
        }
        return rates;
    }

    private (RunReport Report, bool PeakPerStage) RunOne(string name, TrainConfig config, IReadOnlyList<CalibratedRate> rates, Action<string> modelName,
        IProgress<string>? log, IProgress<TrainingProgress>? training, CancellationToken cancellationToken)
    {
        string folder = Fresh(Path.Combine(workFolder, "runs", name));
        string description = string.Join(" → ", config.Stages.Select(s => $"{s.ImageSize} px"));
        var planned = BudgetPlan.PlannedSeconds(config, rates);
        log?.Report($"{name} run ({description}): " + string.Join(", ", config.Stages.Select((s, i) =>
            $"{s.Samples} samples at {s.ImageSize} px (batch {s.BatchSize}, peak lr {s.PeakLr:G3}, planned {planned[i]:F0} s)")));

        var clock = options.Clock();
        var memory = new PeakMemory();
        var curve = new List<AccuracyPoint>();
        var stages = new List<StageReport>();
        double every = options.EvalEvery.TotalSeconds, nextEval = every, evaluationSeconds = 0, stageStart = 0;
        long samples = 0, stageStartSamples = 0;
        int stage = 0;
        ClipsTrainingModel? live = null;

        // The clock and the memory high-water mark stop while the model is evaluated.
        void Evaluate(ClipsTrainingModel model)
        {
            clock.Stop();
            memory.Pause();
            var wall = Stopwatch.StartNew();
            int trainingSize = config.Stages[stage].ImageSize;
            double top1, atTrainingSize;
            model.Train(false);
            using (torch.no_grad())
            {
                top1 = evaluate(model.Clip, finalSize, options.EvalImages);
                atTrainingSize = trainingSize == finalSize ? top1 : evaluate(model.Clip, trainingSize, options.EvalImages);
            }
            model.Train(true);
            var point = new AccuracyPoint(clock.Elapsed.TotalSeconds, samples, stage, trainingSize, top1, atTrainingSize);
            curve.Add(point);
            evaluationSeconds += wall.Elapsed.TotalSeconds;
            log?.Report($"{name} {point.TrainingSeconds,7:F1} s {samples,8} samples, training at {trainingSize} px: zero-shot top-1 {top1:P1} at {finalSize} px" +
                        (trainingSize == finalSize ? "" : $", {atTrainingSize:P1} at {trainingSize} px"));
            memory.Resume();
            clock.Start();
        }

        long baseline = memory.Start();
        var trainer = new Trainer(config, data, folder, modelFactory: () =>
        {
            var model = Trainer.CreateModel(config);
            live = model;
            modelName(model.Clip.Config.Name);
            Evaluate(model);   // the untrained model: the curves start at 0 s; this also starts the clock
            return model;
        });
        var steps = new Callback<TrainingProgress>(p =>
        {
            clock.StepDone(p.Last.ImageSize, config.Stages[p.Last.Stage].BatchSize);
            (samples, stage) = (p.Last.Samples, p.Last.Stage);
            training?.Report(p);
            double now = clock.Elapsed.TotalSeconds;
            if (now < nextEval) return;
            Evaluate(live!);
            nextEval = (Math.Floor(now / every) + 1) * every;
        });
        using var trained = trainer.Run(steps, (index, model) =>
        {
            clock.Stop();
            memory.Pause();
            double now = clock.Elapsed.TotalSeconds;
            var spec = config.Stages[index];
            double seconds = now - stageStart;
            stages.Add(new StageReport(index, spec.ImageSize, spec.BatchSize, samples - stageStartSamples, spec.PeakLr, spec.WarmupSamples, planned[index],
                seconds, (samples - stageStartSamples) / seconds, BudgetPlan.Rate(rates, spec.ImageSize, spec.BatchSize), memory.TakeStagePeak()));
            if (curve[^1].Samples != samples) Evaluate(model);   // each stage's end is on the curve (and the run's end)
            else { memory.Resume(); clock.Start(); }
            stage = Math.Min(index + 1, config.Stages.Count - 1);
            (stageStart, stageStartSamples) = (now, samples);
        }, cancellationToken);
        clock.Stop();
        foreach (var _ in TrainingPlots.Write(trainer.MetricsPath)) { }
        var report = new RunReport(name, description, stages, curve, curve[^1].TrainingSeconds, evaluationSeconds, baseline);
        return (report, memory.PerStage);
    }

    // Run folders are the benchmark's own: a leftover checkpoint would make the trainer resume instead of start.
    private static string Fresh(string folder)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Reports on the training thread, so the clock is read at the step it describes.</summary>
    private sealed class Callback<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }

    /// <summary>Peak resident memory per stage, with evaluations left out: the high-water mark is read before each
    /// evaluation and reset after it.</summary>
    private sealed class PeakMemory
    {
        private long stagePeak;

        /// <summary>False once a reset failed: peaks are then the process's since start.</summary>
        public bool PerStage { get; private set; } = true;

        /// <summary>Resets the mark; returns the resident memory at this point (the baseline).</summary>
        public long Start()
        {
            Resume();
            return ProcessMemory.CurrentBytes();
        }

        public void Pause() => stagePeak = Math.Max(stagePeak, ProcessMemory.PeakBytes());

        public void Resume() => PerStage &= ProcessMemory.ResetPeak();

        public long TakeStagePeak()
        {
            long peak = stagePeak;
            stagePeak = 0;
            return peak;
        }
    }
}
