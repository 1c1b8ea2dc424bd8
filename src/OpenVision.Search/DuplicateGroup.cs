namespace OpenVision.Search;

/// <summary>Items that are near-duplicates of one another, with the lowest similarity of the pairs that joined them.</summary>
/// <param name="Rows">Rows of the members, ascending.</param>
/// <param name="Items">The members, in the order of <paramref name="Rows"/>.</param>
/// <param name="MinLinkScore">The weakest cosine similarity among the links that formed the group.</param>
public sealed record DuplicateGroup(IReadOnlyList<long> Rows, IReadOnlyList<IndexItem> Items, float MinLinkScore);
