namespace OpenVision.Search;

/// <summary>One indexed image: its path (or a dataset key) and, when the source had one, its caption.</summary>
/// <param name="Key">The file path as given to the builder, or a sample key.</param>
/// <param name="Caption">The sample's caption, if any.</param>
public sealed record IndexItem(string Key, string? Caption = null);

/// <summary>An input the builder could not embed, and why (one line).</summary>
/// <param name="Key">The file path or sample key.</param>
/// <param name="Reason">The decoder's or reader's message.</param>
public sealed record SkippedInput(string Key, string Reason);

/// <summary>A search result: the item, its row in the index and its cosine similarity to the query.</summary>
/// <param name="Row">Row of the item in the index (0-based, insertion order).</param>
/// <param name="Item">The indexed item.</param>
/// <param name="Score">Cosine similarity to the query, in [−1, 1].</param>
public sealed record SearchHit(long Row, IndexItem Item, float Score);
