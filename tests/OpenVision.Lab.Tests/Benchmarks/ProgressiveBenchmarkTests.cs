using OpenVision.Lab.Benchmarks.Training;
using OpenVision.Lab.Datasets;
using OpenVision.Lab.Demo;
using OpenVision.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace OpenVision.Lab.Tests.Benchmarks;

public class ProgressiveBenchmarkTests(ITestOutputHelper output)
{
    // Simulated cost per training sample, proportional to the patch count (4-px patches): 16 px 0.032 s, 24 px 0.072 s,
    // so an 8-s budget is a handful of steps at batch 16.
    private static double Cost(int imageSize) => imageSize * imageSize / 8_000.0;

    // The demo's model, schedule and zero-shot protocol on 320 real training images at batch 16, timed by a simulated
    // clock so the plan and the evaluation points do not depend on the machine's speed or load.
    [Fact]
    public void BothRunsFillTheBudgetAndTheReportIsCoherent()
    {
        using var dir = new TempDirectory();
        var train = Subsample(FashionMnist.ReadTrain(), 320);
        var test = FashionMnist.ReadTest();
        var budget = TimeSpan.FromSeconds(8);
        var clocks = new List<ITrainingClock>();
        var demoZeroShot = FashionMnistProgressiveBenchmark.ZeroShot(test);
        int evaluations = 0;
        var options = new FashionMnistBenchmarkOptions
        {
            OutputFolder = dir.Path, BatchSize = 16, Seed = 3,
            Benchmark = new ProgressiveBenchmarkOptions
            {
                Budget = budget, EvalEvery = TimeSpan.FromSeconds(2), EvalImages = 40, CalibrationWarmupSteps = 1, CalibrationSteps = 1,
                Clock = () =>
                {
                    clocks.Add(new SimulatedTrainingClock(Cost));
                    return clocks[^1];
                },
            },
            // The demo's measurement, checked to run off the clock, without autograd, in evaluation mode.
            Evaluate = (model, size, images) =>
            {
                evaluations++;
                Assert.DoesNotContain(clocks, c => c.IsRunning);
                Assert.False(torch.is_grad_enabled());
                Assert.False(model.training);
                return demoZeroShot(model, size, images);
            },
        };
        var messages = new List<string>();
        var (report, files) = FashionMnistProgressiveBenchmark.Run(options, train, test, new Callback<string>(m => { messages.Add(m); output.WriteLine($"{DateTime.Now:HH:mm:ss.f} {m}"); }));

        var demo = FashionMnistDemo.TrainConfig(Path.Combine(dir.Path, "model_config.json"));
        int finalSize = demo.Stages[^1].ImageSize;
        Assert.Equal(finalSize, report.FinalImageSize);
        Assert.Equal(("simulated", FashionMnistDemo.ModelName, 40), (report.Clock, report.Model, report.EvalImages));
        Assert.All(report.Calibration, r => Assert.Equal(1 / Cost(r.ImageSize), r.SamplesPerSecond, 1e-6));

        // Fixed: one stage at the final resolution; progressive: the demo's resolutions with the demo's split of samples.
        Assert.Equal([finalSize], report.Fixed.Stages.Select(s => s.ImageSize));
        Assert.Equal(demo.Stages.Select(s => s.ImageSize), report.Progressive.Stages.Select(s => s.ImageSize));
        for (int i = 0; i < demo.Stages.Count; i++)
        {
            double expected = demo.Stages[i].Samples / demo.Stages.Sum(s => (double)s.Samples);
            double actual = report.Progressive.Stages[i].Samples / report.Progressive.Stages.Sum(s => (double)s.Samples);
            Assert.True(Math.Abs(expected - actual) < 16.0 * demo.Stages.Count / report.Progressive.Stages.Sum(s => s.Samples),
                $"stage {i}: {actual:P1} of the samples, the demo has {expected:P1}");
        }

        foreach (var run in new[] { report.Fixed, report.Progressive })
        {
            // Each run fills the budget up to the whole-batch rounding of each stage.
            double slack = run.Stages.Sum(s => s.BatchSize * Cost(s.ImageSize));
            Assert.InRange(run.TrainingSeconds, budget.TotalSeconds - slack - 1e-9, budget.TotalSeconds + 1e-9);
            Assert.Equal(run.Stages.Sum(s => s.TrainingSeconds), run.TrainingSeconds, 1e-9);
            Assert.All(run.Stages, s =>
            {
                Assert.Equal(1 / Cost(s.ImageSize), s.SamplesPerSecond, 1e-6);
                Assert.Equal(s.PlannedSeconds, s.TrainingSeconds, 1e-6);
                Assert.True(s.PeakWorkingSetBytes > 50 << 20, $"{run.Name} stage {s.Stage}: peak {s.PeakWorkingSetBytes} bytes");
            });

            // The curve: starts with the untrained model, then time and samples strictly increase, one point per
            // evaluation interval crossed (plus stage ends), and ends at the end of training.
            var curve = run.Curve;
            Assert.Equal((0.0, 0L), (curve[0].TrainingSeconds, curve[0].Samples));
            for (int i = 1; i < curve.Count; i++)
            {
                Assert.True(curve[i].TrainingSeconds > curve[i - 1].TrainingSeconds, $"{run.Name}: time {curve[i].TrainingSeconds} after {curve[i - 1].TrainingSeconds}");
                Assert.True(curve[i].Samples > curve[i - 1].Samples);
            }
            Assert.Equal(run.TrainingSeconds, curve[^1].TrainingSeconds, 1e-9);
            Assert.Equal(run.Stages.Sum(s => s.Samples), curve[^1].Samples);
            Assert.InRange(curve.Count, 1 + (int)((run.TrainingSeconds - 1e-9) / 2), 1 + (int)((run.TrainingSeconds + 1e-9) / 2) + run.Stages.Count);
            Assert.All(curve, p => Assert.InRange(p.Top1, 0, 1));
            Assert.All(curve.Where(p => p.TrainingImageSize == finalSize), p => Assert.Equal(p.Top1, p.Top1AtTrainingSize));
            Assert.Equal(curve[^1].Top1, run.FinalTop1);
        }
        Assert.Contains(report.Progressive.Curve, p => p.TrainingImageSize < finalSize);
        Assert.Equal(report.Fixed.Curve.Count + report.Progressive.Curve.Count(p => p.TrainingImageSize != finalSize) + report.Progressive.Curve.Count, evaluations);
        Assert.Equal(SpeedUpResult.Compute(report.Fixed.Series(), report.Progressive.Series()), report.SpeedUp);
        Assert.Equal(report.Fixed.FinalTop1, report.SpeedUp.TargetTop1);

        // The files: JSON that reads back to the same numbers, Markdown with the speed-up, a PNG.
        Assert.Equal(["progressive.json", "progressive.md", "progressive-accuracy.png"], files.Select(Path.GetFileName));
        var back = ProgressiveBenchmarkFiles.Read(files[0]);
        Assert.Equal(report.SpeedUp, back.SpeedUp);
        Assert.Equal(report.Progressive.Curve, back.Progressive.Curve);
        Assert.Equal(report.Fixed.Stages, back.Fixed.Stages);
        Assert.Contains($"Speed-up: {report.SpeedUp.Describe()}", File.ReadAllText(files[1]));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(files[2])[..4]);
        Assert.Contains(messages, m => m.StartsWith("calibration: 16 px", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(dir.Path, "runs", "progressive", "metrics.jsonl")));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "calibration", "16px-batch16")));
    }

    [Fact]
    public void BadSettingsAreClearErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => new ProgressiveBenchmarkOptions { EvalEvery = TimeSpan.Zero }.Validate());
        Assert.Contains("evaluation interval", e.Message);
        using var dir = new TempDirectory();
        var test = Subsample(FashionMnist.ReadTest(), 20);
        e = Assert.Throws<ArgumentException>(() => FashionMnistProgressiveBenchmark.Run(
            new FashionMnistBenchmarkOptions { OutputFolder = dir.Path, Benchmark = new ProgressiveBenchmarkOptions { EvalImages = 50 } }, test, test));
        Assert.Contains("50 exceeds the 20 test images", e.Message);
    }

    [Fact]
    public void ThePeakMemoryResetsAfterABigAllocationIsFreed()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(ProcessMemory.ResetPeak());
            return;
        }
        Assert.True(ProcessMemory.ResetPeak());
        long before = ProcessMemory.PeakBytes();
        const int size = 256 << 20;
        var block = System.Runtime.InteropServices.Marshal.AllocHGlobal(size);
        for (int i = 0; i < size; i += 4096) System.Runtime.InteropServices.Marshal.WriteByte(block, i, 1);   // touch every page: resident
        System.Runtime.InteropServices.Marshal.FreeHGlobal(block);
        long high = ProcessMemory.PeakBytes();
        Assert.True(high - before >= 200 << 20, $"peak went from {before >> 20} to {high >> 20} MiB");
        Assert.True(ProcessMemory.ResetPeak());
        Assert.True(ProcessMemory.PeakBytes() < high - (100 << 20), $"peak after the reset {ProcessMemory.PeakBytes() >> 20} MiB, before {high >> 20} MiB");
    }

    private static FashionMnistSplit Subsample(FashionMnistSplit split, int count) =>
        new(split.Name, split.Images[..(count * FashionMnistSplit.Side * FashionMnistSplit.Side)], split.Labels[..count]);

    private sealed class Callback<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}
