namespace OpenVision.Search;

/// <summary>An index file or operation that USearch refused, with its message.</summary>
public sealed class USearchIndexException(string message) : Exception(message);
