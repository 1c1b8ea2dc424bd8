using System.Globalization;

namespace OpenVision.Training.Data;

/// <summary>Image-text samples listed in a CSV or TSV manifest with a header row: image path, alt-text and optionally
/// a synthetic caption and a label per row. Rows are read up front; images are read when their turn comes.</summary>
public sealed class ManifestSource : IImageTextSource
{
    private readonly DataOrderOptions _order;
    private readonly Row[] _rows;

    private sealed record Row(int Line, string ImagePath, string AltText, string? Caption, int? Label);

    /// <summary>Reads the manifest at <paramref name="path"/>.</summary>
    /// <exception cref="FormatException">The header lacks an image or alt-text column, or the quoting is broken.</exception>
    public ManifestSource(string path, DataOrderOptions? order = null, ManifestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new ManifestOptions();
        _order = order ?? new DataOrderOptions();
        _order.Validate();
        Path = path;
        string baseDirectory = options.BaseDirectory ?? System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        using var records = DelimitedText.ReadFile(path, options.Delimiter).GetEnumerator();
        if (!records.MoveNext()) throw new FormatException($"{path}: empty manifest (a header row is needed)");
        string[] header = records.Current.Fields;
        int image = Column(header, options.ImageColumns, path, required: true);
        int alt = Column(header, options.AltTextColumns, path, required: true);
        int caption = Column(header, options.CaptionColumns, path, required: false);
        int label = Column(header, options.LabelColumns, path, required: false);
        var rows = new List<Row>();
        while (records.MoveNext())
        {
            var (line, fields) = records.Current;
            string Field(int i) => i >= 0 && i < fields.Length ? fields[i] : "";
            string imagePath = Field(image).Trim();
            if (imagePath.Length == 0)
            {
                Skips.Add(path, $"line {line}", SkipReason.MissingImage, "empty image path");
                continue;
            }
            int? labelValue = null;
            if (Field(label).Trim() is { Length: > 0 } labelText)
            {
                if (!int.TryParse(labelText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                {
                    Skips.Add(path, $"line {line}", SkipReason.BadMetadata, $"label '{labelText}' is not an integer");
                    continue;
                }
                labelValue = v;
            }
            string captionText = Field(caption).Trim();
            if (Field(alt).Trim().Length == 0)
            {
                Skips.Add(path, $"line {line}", SkipReason.MissingAltText, "empty alt-text");
                continue;
            }
            rows.Add(new Row(line, System.IO.Path.Combine(baseDirectory, imagePath), Field(alt).Trim(), captionText.Length > 0 ? captionText : null, labelValue));
        }
        _rows = [.. rows];
    }

    /// <summary>The manifest file.</summary>
    public string Path { get; }

    /// <summary>Usable rows (image path and alt-text present), all ranks together.</summary>
    public int Count => _rows.Length;

    /// <inheritdoc/>
    public SkipLog Skips { get; } = new();

    /// <inheritdoc/>
    public string Description => $"manifest {Path} ({_rows.Length} rows{(_order.WorldSize > 1 ? $", rank {_order.Rank} of {_order.WorldSize}" : "")})";

    /// <inheritdoc/>
    public IEnumerable<ImageTextSample> ReadEpoch(int epoch, long skip = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        return Iterate(SampleOrder.ForEpoch(_rows.Length, _order, epoch), skip, cancellationToken);
    }

    private IEnumerable<ImageTextSample> Iterate(int[] order, long skip, CancellationToken cancellationToken) =>
        FileSamples.Read(order.Select(i => _rows[i]), skip, Path, Skips, cancellationToken,
            row => (row.ImagePath, $"line {row.Line}", row.AltText, row.Caption, row.Label));

    private static int Column(string[] header, IReadOnlyList<string> names, string path, bool required)
    {
        foreach (string name in names)
        {
            int i = Array.FindIndex(header, h => string.Equals(h.Trim(), name, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return i;
        }
        if (required) throw new FormatException($"{path}: the header ({string.Join(", ", header)}) has none of the columns {string.Join(", ", names)}");
        return -1;
    }
}
