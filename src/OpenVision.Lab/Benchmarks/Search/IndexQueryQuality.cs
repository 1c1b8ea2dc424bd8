namespace OpenVision.Lab.Benchmarks.Search;

/// <summary>Retrieval quality of one set of text queries through an index, exactly and through its HNSW graph.</summary>
/// <param name="Queries">What the queries were, in words.</param>
/// <param name="Count">Queries run.</param>
/// <param name="ExactClassPrecisionAt10">Share of the exact top 10 whose class is the query's.</param>
/// <param name="HnswClassPrecisionAt10">The same through the HNSW graph.</param>
/// <param name="ExactOwnImageAt10">Share of queries whose own image is in the exact top 10 (null for class prompts,
/// which have no image of their own): the index's view of the evaluator's text→image recall@10.</param>
/// <param name="HnswOwnImageAt10">The same through the HNSW graph.</param>
/// <param name="HnswRecallAt10">Share of the exact top 10 the graph also returns.</param>
public sealed record IndexQueryQuality(string Queries, int Count, double ExactClassPrecisionAt10, double HnswClassPrecisionAt10,
    double? ExactOwnImageAt10, double? HnswOwnImageAt10, double HnswRecallAt10);
