using System.Globalization;
using OpenVision.Training.Data;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>A CSV (or .tsv) of <c>path,label</c> rows. Labels are class indices, or class names looked up in
/// the given names (or, without names, sorted ordinally). Relative paths are taken from the CSV's folder. A first
/// row whose label field is "label", "class" or "target" is a header.</summary>
public sealed class CsvLabeledSource : ILabeledImageSource
{
    private static readonly string[] HeaderWords = ["label", "labels", "class", "target", "y"];
    private readonly List<(string Path, int Label)> rows = [];
    private readonly string csvPath;

    /// <summary>Reads and validates the CSV.</summary>
    /// <param name="csvPath">The CSV file.</param>
    /// <param name="classNames">Class names in label order; required when labels are indices beyond what the
    /// file shows, optional otherwise.</param>
    /// <param name="imageRoot">Folder for relative paths; null uses the CSV's folder.</param>
    /// <param name="name">Data set name; null uses the file name without extension.</param>
    public CsvLabeledSource(string csvPath, IReadOnlyList<string>? classNames = null, string? imageRoot = null, string? name = null)
    {
        this.csvPath = Path.GetFullPath(csvPath);
        imageRoot ??= Path.GetDirectoryName(this.csvPath)!;
        char separator = DelimitedText.DelimiterFor(csvPath);
        var raw = new List<(string Path, string Label, int Line)>();
        bool first = true;
        foreach (var (line, fields) in DelimitedText.ReadFile(csvPath, separator))
        {
            if (fields.All(string.IsNullOrWhiteSpace)) continue;
            if (fields.Length < 2) throw new InvalidDataException($"{csvPath}:{line}: expected path{separator}label");
            string label = fields[1].Trim();
            bool header = first && HeaderWords.Contains(label.ToLowerInvariant());
            first = false;
            if (header) continue;
            raw.Add((Path.Combine(imageRoot, fields[0].Trim()), label, line));
        }
        if (raw.Count == 0) throw new InvalidDataException($"{csvPath}: no rows");

        bool numeric = raw.All(r => int.TryParse(r.Label, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        if (numeric)
        {
            int max = raw.Max(r => int.Parse(r.Label, CultureInfo.InvariantCulture));
            ClassNames = classNames ?? Enumerable.Range(0, max + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
            foreach (var r in raw)
            {
                int label = int.Parse(r.Label, CultureInfo.InvariantCulture);
                if (label >= ClassNames.Count) throw new InvalidDataException($"{csvPath}:{r.Line}: label {label} but only {ClassNames.Count} class names");
                rows.Add((r.Path, label));
            }
        }
        else
        {
            ClassNames = classNames ?? raw.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            var index = ClassNames.Select((n, i) => (n, i)).GroupBy(p => p.n).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
            foreach (var r in raw)
            {
                if (!index.TryGetValue(r.Label, out int label)) throw new InvalidDataException($"{csvPath}:{r.Line}: label '{r.Label}' is not a class name");
                rows.Add((r.Path, label));
            }
        }
        Name = name ?? Path.GetFileNameWithoutExtension(csvPath);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc/>
    public long? Count => rows.Count;

    /// <inheritdoc/>
    public string? Fingerprint => "csv:" + FileFingerprint.Of([csvPath, .. rows.Select(r => r.Path)]);

    /// <inheritdoc/>
    public IEnumerable<LabeledImage> Read(CancellationToken cancellationToken = default)
    {
        foreach (var (path, label) in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new LabeledImage(ImageSample.FromFile(path), label);
        }
    }
}
