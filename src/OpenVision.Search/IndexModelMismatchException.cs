namespace OpenVision.Search;

/// <summary>A query from a model other than the one that built the index: its vectors would not be comparable.</summary>
public sealed class IndexModelMismatchException(string folder, string reason) : Exception($"{folder}: {reason}");
