using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OpenVision.Training.Data.WebDataset;

/// <summary>Streams image-text samples from WebDataset tar shards: per epoch the rank's shards in shuffled order,
/// read one after another, samples passed through a shuffle buffer; incomplete or corrupt samples skipped and recorded.</summary>
/// <remarks>Reading is sequential and light (no image is decoded here); decoding and augmentation happen on the
/// batcher's workers. The order depends only on the shard list, the seed, the rank and the epoch, so a run resumed
/// at (epoch, k) reproduces the rest of the interrupted epoch by reading and dropping k samples.</remarks>
public sealed class WebDatasetSource : IImageTextSource
{
    private readonly DataOrderOptions _order;
    private readonly WebDatasetOptions _fields;
    private long _samplesRead;

    /// <summary>A source over <paramref name="shards"/>.</summary>
    public WebDatasetSource(ShardList shards, DataOrderOptions? order = null, WebDatasetOptions? fields = null)
    {
        ArgumentNullException.ThrowIfNull(shards);
        _order = order ?? new DataOrderOptions();
        _order.Validate();
        _fields = fields ?? new WebDatasetOptions();
        Shards = shards;
        _ = shards.ShardsFor(_order.Rank, _order.WorldSize); // fail now, not mid-run, when ranks outnumber shards
    }

    /// <summary>A source over the shards named by brace patterns (e.g. "data/train-{000000..000011}.tar").</summary>
    public WebDatasetSource(string pattern, DataOrderOptions? order = null, WebDatasetOptions? fields = null)
        : this(ShardList.FromPatterns(pattern), order, fields) { }

    /// <summary>All shards of the data set (every rank's).</summary>
    public ShardList Shards { get; }

    /// <inheritdoc/>
    public SkipLog Skips { get; } = new();

    /// <summary>Samples parsed from the shards so far, including those passed over to reach a resumed position and
    /// those a data-parallel rank reads for the others: the reading cost of the stream.</summary>
    public long SamplesRead => Interlocked.Read(ref _samplesRead);

    /// <inheritdoc/>
    public string Description =>
        $"{Shards.Shards.Count} WebDataset shard(s){(_order.WorldSize > 1 ? $", rank {_order.Rank} of {_order.WorldSize}" : "")}";

    /// <inheritdoc/>
    public IEnumerable<ImageTextSample> ReadEpoch(int epoch, long skip = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        var samples = RawSamples(Shards.EpochOrder(_order, epoch), cancellationToken).Select(ToSample).OfType<ImageTextSample>();
        if (_order.Shuffle) samples = ShuffleBuffer.Shuffle(samples, _order.ShuffleBufferSize, new DataRandom(_order.Seed, 2, epoch, _order.Rank));
        return SampleOrder.Skip(samples, skip);
    }

    /// <summary>Turns stored files into a training sample, or records why it cannot be one and returns null.</summary>
    public ImageTextSample? ToSample(WebDatasetSample raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        string? imageExtension = _fields.ImageExtensions.FirstOrDefault(raw.Files.ContainsKey);
        if (imageExtension is null) return Skip(raw, SkipReason.MissingImage, $"no {string.Join("/", _fields.ImageExtensions)} file among {string.Join(", ", raw.Files.Keys)}");
        try
        {
            string? altText = Text(raw, _fields.AltTextExtension);
            if (string.IsNullOrWhiteSpace(altText)) return Skip(raw, SkipReason.MissingAltText, $"no non-empty .{_fields.AltTextExtension}");
            string? caption = _fields.CaptionTextExtension is { } ext ? Text(raw, ext) : null;
            if (string.IsNullOrWhiteSpace(caption)) caption = JsonCaption(raw);
            int? label = null;
            if (_fields.LabelExtension is { } cls && Text(raw, cls) is { } labelText)
            {
                if (!int.TryParse(labelText.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                    return Skip(raw, SkipReason.BadMetadata, $".{cls} is not an integer: '{Truncate(labelText)}'");
                label = value;
            }
            return new ImageTextSample(raw.Key, raw.Files[imageExtension], raw.FileName(imageExtension), altText.Trim(),
                string.IsNullOrWhiteSpace(caption) ? null : caption.Trim(), label);
        }
        catch (Exception e) when (e is DecoderFallbackException or JsonException)
        {
            return Skip(raw, SkipReason.BadMetadata, e.Message);
        }
    }

    private IEnumerable<WebDatasetSample> RawSamples(IReadOnlyList<string> shards, CancellationToken cancellationToken)
    {
        foreach (string shard in shards)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Stream stream;
            try
            {
                stream = ShardOpener.Open(shard);
            }
            catch (IOException e)
            {
                Skips.Add(shard, "", SkipReason.UnreadableShard, e.Message);
                continue;
            }
            using (stream)
            {
                foreach (var sample in TarSampleReader.Read(stream, shard, Skips))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Interlocked.Increment(ref _samplesRead);
                    yield return sample;
                }
            }
        }
    }

    private string? JsonCaption(WebDatasetSample raw)
    {
        if (_fields.CaptionJsonExtension is not { } ext || !raw.Files.TryGetValue(ext, out var json)) return null;
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
        foreach (string field in _fields.CaptionJsonFields)
            if (document.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()))
                return value.GetString();
        return null;
    }

    // Strict UTF-8: a text file that is not UTF-8 is bad metadata, not mojibake to train on. A BOM is dropped.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string? Text(WebDatasetSample raw, string extension) =>
        raw.Files.TryGetValue(extension, out var bytes) ? StrictUtf8.GetString(bytes).TrimStart('\uFEFF') : null;

    private ImageTextSample? Skip(WebDatasetSample raw, SkipReason reason, string detail)
    {
        Skips.Add(raw.Shard, raw.Key, reason, detail);
        return null;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
