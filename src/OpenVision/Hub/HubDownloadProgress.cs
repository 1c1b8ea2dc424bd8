namespace OpenVision.Hub;

/// <summary>Progress of one file download: bytes on disk so far (including a resumed part) and the total, when known.</summary>
public readonly record struct HubDownloadProgress(string FileName, long BytesDownloaded, long? TotalBytes);
