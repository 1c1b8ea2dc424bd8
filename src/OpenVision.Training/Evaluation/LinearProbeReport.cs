using System.Text.Json.Nodes;
using OpenVision.Pipelines;
using OpenVision.Training.Evaluation.LinearModels;
using OpenVision.Training.Evaluation.Results;

namespace OpenVision.Training.Evaluation;

/// <summary>The outcome of a linear probe.</summary>
public sealed record LinearProbeReport
{
    /// <summary>Data set name (of the test split).</summary>
    public required string Dataset { get; init; }

    /// <summary>Model name.</summary>
    public required string Model { get; init; }

    /// <summary>Weights the model came from.</summary>
    public required string Pretrained { get; init; }

    /// <summary>Class names in label order.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Test-set hits, top-k and the confusion matrix.</summary>
    public required ClassificationTally Tally { get; init; }

    /// <summary>The chosen λ.</summary>
    public required double L2 { get; init; }

    /// <summary>The sweep (empty when no validation split could be carved and the fallback λ was used).</summary>
    public required IReadOnlyList<L2SweepPoint> Sweep { get; init; }

    /// <summary>Samples the sweep trained on.</summary>
    public required int TrainCount { get; init; }

    /// <summary>Samples the sweep validated on (the final fit uses training + validation).</summary>
    public required int ValidationCount { get; init; }

    /// <summary>k of a few-shot probe, or null.</summary>
    public required int? KShot { get; init; }

    /// <summary>Seed of the few-shot draw and the split.</summary>
    public required int Seed { get; init; }

    /// <summary>L-BFGS iterations of the final fit, and whether it converged.</summary>
    public required (int Iterations, bool Converged) FinalFit { get; init; }

    /// <summary>Undecodable training samples.</summary>
    public IReadOnlyList<SkippedItem> SkippedTrain { get; init; } = [];

    /// <summary>Undecodable test samples.</summary>
    public IReadOnlyList<SkippedItem> SkippedTest { get; init; } = [];

    /// <summary>Whether training / test features came from the cache.</summary>
    public (bool Train, bool Test) FromCache { get; init; }

    /// <summary>Rates of the training and test encode loops; null for features read from the cache.</summary>
    public (EncodeThroughput? Train, EncodeThroughput? Test) Throughput { get; init; }

    /// <summary>Feature preparation: "l2" (normalised), "l2+standardized", or "raw".</summary>
    public string FeaturePreparation { get; init; } = "l2";

    /// <summary>The transform used, in words.</summary>
    public string Transform { get; init; } = "";

    /// <summary>Test top-1 accuracy.</summary>
    public double Top1 => Tally.Top1;

    /// <summary>CLIP_benchmark's metrics (lp_acc1, lp_acc5 with five or more classes, lp_mean_per_class_recall), λ and counts.</summary>
    public IEnumerable<Metric> ToMetrics()
    {
        yield return new Metric("lp_acc1", Tally.Top1);
        if (ClassNames.Count >= 5) yield return new Metric("lp_acc5", Tally.TopK);
        yield return new Metric("lp_mean_per_class_recall", Tally.MeanPerClassRecall);
        yield return new Metric("l2_lambda", L2);
        if (KShot is { } k) yield return new Metric("fewshot_k", k);
        yield return new Metric("seed", Seed);
        yield return new Metric("num_train", TrainCount);
        yield return new Metric("num_val", ValidationCount);
        yield return new Metric("num_test", Tally.Samples);
        yield return new Metric("num_skipped", SkippedTrain.Count + SkippedTest.Count);
    }

    /// <summary>The result in CLIP_benchmark's schema, with the sweep and skipped files as details.</summary>
    public BenchmarkResult ToResult() => new()
    {
        Dataset = Dataset,
        Model = Model,
        Pretrained = Pretrained,
        Task = BenchmarkResult.LinearProbe,
        Metrics = ToMetrics().ToList(),
        Details = new JsonObject
        {
            ["transform"] = Transform,
            ["features"] = FeaturePreparation,
            ["l2_sweep"] = new JsonArray(Sweep.Select(p => (JsonNode)new JsonObject
            {
                ["l2"] = p.L2, ["val_acc1"] = p.ValidationAccuracy, ["val_loss"] = p.ValidationLoss,
                ["iterations"] = p.Iterations, ["converged"] = p.Converged,
            }).ToArray()),
            ["final_fit"] = new JsonObject { ["iterations"] = FinalFit.Iterations, ["converged"] = FinalFit.Converged },
            ["features_from_cache"] = new JsonObject { ["train"] = FromCache.Train, ["test"] = FromCache.Test },
            ["throughput"] = new JsonObject { ["train"] = Throughput.Train?.ToJson(), ["test"] = Throughput.Test?.ToJson() },
            ["skipped"] = ZeroShotReport.SkippedJson([.. SkippedTrain, .. SkippedTest]),
        },
    };
}
