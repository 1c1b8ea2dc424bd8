namespace OpenVision.Training.Data;

/// <summary>A source of image-text samples for training: WebDataset shards, a manifest, a folder, or anything
/// that can list its samples in a deterministic order.</summary>
/// <remarks>Contract: for a given seed (set when the source is built), rank and <c>epoch</c>, <see cref="ReadEpoch"/>
/// yields the same samples in the same order every time; <c>skip</c> drops the first samples of that order without
/// decoding them, so a resumed run sees exactly the rest of the interrupted epoch. Bad samples are recorded in
/// <see cref="Skips"/>, never thrown.</remarks>
public interface IImageTextSource
{
    /// <summary>What the source reads, for logs (e.g. "12 WebDataset shards, rank 0 of 2").</summary>
    string Description { get; }

    /// <summary>Samples skipped so far, by reason.</summary>
    SkipLog Skips { get; }

    /// <summary>This rank's samples of one epoch, in the epoch's deterministic order, after the first <paramref name="skip"/>.</summary>
    /// <param name="epoch">Zero-based epoch; it keys the shuffle.</param>
    /// <param name="skip">Samples of the epoch's order to pass over (a resumed position).</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    IEnumerable<ImageTextSample> ReadEpoch(int epoch, long skip = 0, CancellationToken cancellationToken = default);
}
