namespace OpenVision.Training.Evaluation;

/// <summary>Counts classification outcomes batch by batch: top-1 and top-k hits and the confusion matrix, from
/// which CLIP_benchmark's acc1, acc5 and mean_per_class_recall (scikit-learn's balanced accuracy) follow.</summary>
public sealed class ClassificationTally
{
    private readonly long[] confusion;   // [true, predicted], row-major
    private long samples, top1, topK;

    /// <summary>A tally for <paramref name="classCount"/> classes that also counts top-<paramref name="k"/> hits.</summary>
    public ClassificationTally(int classCount, int k = 5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ClassCount = classCount;
        K = Math.Min(k, classCount);
        confusion = new long[(long)classCount * classCount];
    }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>The k of top-k (at most the number of classes).</summary>
    public int K { get; }

    /// <summary>Samples counted.</summary>
    public long Samples => samples;

    /// <summary>Adds one sample: its true label and its predicted labels, best first (at least one).</summary>
    public void Add(long label, ReadOnlySpan<long> rankedPredictions)
    {
        if ((ulong)label >= (ulong)ClassCount) throw new ArgumentOutOfRangeException(nameof(label), $"label {label} outside 0..{ClassCount - 1}");
        if (rankedPredictions.IsEmpty) throw new ArgumentException("at least one prediction is needed", nameof(rankedPredictions));
        samples++;
        if (rankedPredictions[0] == label) top1++;
        if (rankedPredictions[..Math.Min(K, rankedPredictions.Length)].Contains(label)) topK++;
        confusion[label * ClassCount + rankedPredictions[0]]++;
    }

    /// <summary>Adds a batch: labels [N] and top-k indices [N, k] (row-major, best first).</summary>
    public void AddBatch(ReadOnlySpan<long> labels, ReadOnlySpan<long> topIndices, int k)
    {
        if (topIndices.Length != labels.Length * k) throw new ArgumentException($"{topIndices.Length} indices for {labels.Length} samples × {k}");
        for (int i = 0; i < labels.Length; i++) Add(labels[i], topIndices.Slice(i * k, k));
    }

    /// <summary>Fraction of samples whose best prediction is right.</summary>
    public double Top1 => samples == 0 ? 0 : (double)top1 / samples;

    /// <summary>Fraction of samples whose label is among the top <see cref="K"/> predictions.</summary>
    public double TopK => samples == 0 ? 0 : (double)topK / samples;

    /// <summary>Samples of class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long Count(int truth, int predicted) => confusion[(long)truth * ClassCount + predicted];

    /// <summary>The confusion matrix [true, predicted].</summary>
    public long[,] Confusion()
    {
        var matrix = new long[ClassCount, ClassCount];
        for (int t = 0; t < ClassCount; t++)
            for (int p = 0; p < ClassCount; p++) matrix[t, p] = Count(t, p);
        return matrix;
    }

    /// <summary>Per-class recall (accuracy within each true class); null for classes with no samples.</summary>
    public double?[] PerClassRecall()
    {
        var recall = new double?[ClassCount];
        for (int c = 0; c < ClassCount; c++)
        {
            long row = 0;
            for (int p = 0; p < ClassCount; p++) row += Count(c, p);
            recall[c] = row == 0 ? null : (double)Count(c, c) / row;
        }
        return recall;
    }

    /// <summary>Mean of the per-class recalls over classes that have samples (scikit-learn balanced_accuracy_score).</summary>
    public double MeanPerClassRecall
    {
        get
        {
            var present = PerClassRecall().Where(r => r.HasValue).Select(r => r!.Value).ToList();
            return present.Count == 0 ? 0 : present.Average();
        }
    }
}
