namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>A classification source over any sequence of samples: the plug for readers written elsewhere
/// (WebDataset shards, a training data module) and for tests.</summary>
public sealed class LabeledImageSource : ILabeledImageSource
{
    private readonly Func<CancellationToken, IEnumerable<LabeledImage>> read;

    /// <summary>Wraps <paramref name="read"/>, which must yield the same samples each time it is called.</summary>
    /// <param name="name">Data set name.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="read">Yields the samples.</param>
    /// <param name="fingerprint">Identity for the feature cache; null disables caching of this source.</param>
    /// <param name="count">Number of samples, if known.</param>
    public LabeledImageSource(string name, IReadOnlyList<string> classNames, Func<CancellationToken, IEnumerable<LabeledImage>> read,
        string? fingerprint = null, long? count = null)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0) throw new ArgumentException("at least one class is needed", nameof(classNames));
        Name = name;
        ClassNames = classNames;
        this.read = read ?? throw new ArgumentNullException(nameof(read));
        Fingerprint = fingerprint;
        Count = count;
    }

    /// <summary>A source over samples held in a list.</summary>
    public static LabeledImageSource FromList(string name, IReadOnlyList<string> classNames, IReadOnlyList<LabeledImage> samples, string? fingerprint = null) =>
        new(name, classNames, _ => samples, fingerprint, samples.Count);

    /// <summary>The first <paramref name="count"/> samples of <paramref name="source"/> (a quick evaluation on a subset).</summary>
    public static LabeledImageSource First(ILabeledImageSource source, int count)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        long? known = source.Count is { } total ? Math.Min(total, count) : null;
        string? fingerprint = source.Fingerprint is { } whole ? $"{whole}|first {count}" : null;
        return new LabeledImageSource(source.Name, source.ClassNames, token => source.Read(token).Take(count), fingerprint, known);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public long? Count { get; }

    /// <inheritdoc/>
    public string? Fingerprint { get; }

    /// <inheritdoc/>
    public IEnumerable<LabeledImage> Read(CancellationToken cancellationToken = default)
    {
        foreach (var sample in read(cancellationToken))
        {
            if ((uint)sample.Label >= (uint)ClassNames.Count)
                throw new InvalidDataException($"{Name}: sample {sample.Image.Key} has label {sample.Label}, outside 0..{ClassNames.Count - 1}");
            yield return sample;
        }
    }
}
