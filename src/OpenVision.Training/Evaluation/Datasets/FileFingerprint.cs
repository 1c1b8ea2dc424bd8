using System.Security.Cryptography;
using System.Text;

namespace OpenVision.Training.Evaluation.Datasets;

/// <summary>A short hash of file paths, sizes and modification times: changes when any file is replaced,
/// without reading the files.</summary>
internal static class FileFingerprint
{
    public static string Of(IEnumerable<string> paths)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in paths)
        {
            var info = new FileInfo(path);
            long length = info.Exists ? info.Length : -1;
            long time = info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
            hash.AppendData(Encoding.UTF8.GetBytes($"{info.FullName}\n{length}\n{time}\n"));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
