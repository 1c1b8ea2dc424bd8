using OpenVision.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests;

public class TrainingSmokeTests
{
    // Three AdamW steps on one repeated batch of 8 pairs: the loss stays finite and goes down.
    [Fact]
    public void ThreeStepsReduceTheLossOnARepeatedBatch()
    {
        using var model = TinyModels.Model(41);
        using var batch = TinyModels.MakeBatch(8, seed: 42);
        var config = new AdamWConfig();
        using var optimizer = config.Create(ParamGroups.Split(model));
        var schedule = LrSchedule.WarmupCosine(3e-3, 0, 100);
        model.Train();
        var totals = new List<double>();
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            OptimizerSteps.SetLearningRate(optimizer, schedule.At(step));
            OptimizerSteps.ZeroGrad(optimizer);
            using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
            totals.Add(losses.ToDoubles().Total);
            if (step < 3)
            {
                losses.Total.backward();
                optimizer.step();
            }
        }
        Assert.All(totals, t => Assert.True(double.IsFinite(t)));
        for (int i = 1; i < totals.Count; i++) Assert.True(totals[i] < totals[i - 1], $"loss went {string.Join(" → ", totals)}");
    }

    // A training step (forward, backward, AdamW) must leave no live tensors behind: TorchSharp frees native memory
    // only through Dispose, so a leak here would grow by the activations of every step.
    [Fact]
    public void TrainingStepsLeakNoTensors()
    {
        using var model = TinyModels.Model(43);
        using var batch = TinyModels.MakeBatch(4, seed: 44);
        using var optimizer = new AdamWConfig().Create(ParamGroups.Split(model), learningRate: 1e-3);
        void Step()
        {
            OptimizerSteps.ZeroGrad(optimizer);
            using var losses = model.Forward(batch.Pixels, batch.AltTexts, batch.SubCaptions, batch.Captions);
            losses.Total.backward();
            optimizer.step();
        }
        for (int i = 0; i < 3; i++) Step();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Step();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"{after - before} tensors leaked over 20 steps");
    }
}
