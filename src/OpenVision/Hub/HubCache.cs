using System.Text.RegularExpressions;
using OpenVision.IO;

namespace OpenVision.Hub;

/// <summary>The huggingface_hub cache layout, shared with Python tools:
/// <c>{root}/models--ORG--NAME/blobs/{etag}</c> holds each file once, <c>snapshots/{commit}/{file}</c> links to it,
/// and <c>refs/{revision}</c> holds the commit a branch or tag pointed to when last resolved.</summary>
public sealed partial class HubCache
{
    /// <summary>A cache rooted at <paramref name="root"/>.</summary>
    public HubCache(string root) => Root = Path.GetFullPath(root);

    /// <summary>The cache folder.</summary>
    public string Root { get; }

    /// <summary><c>{root}/models--ORG--NAME</c>.</summary>
    public string RepoFolder(HubModelId id) => Path.Combine(Root, id.CacheFolderName);

    /// <summary>Where a blob with this ETag lives.</summary>
    public string BlobPath(HubModelId id, string etag) => Path.Combine(RepoFolder(id), "blobs", CheckSegment(etag, "etag"));

    /// <summary>Where a file of a commit appears.</summary>
    public string SnapshotPath(HubModelId id, string commit, string fileName) =>
        Path.Combine([RepoFolder(id), "snapshots", CheckSegment(commit, "commit"), .. SplitFileName(fileName)]);

    /// <summary>The file that records which commit <paramref name="revision"/> resolved to.</summary>
    public string RefPath(HubModelId id, string revision) => Path.Combine([RepoFolder(id), "refs", .. revision.Split('/')]);

    /// <summary>The lock file that serializes downloads of one blob across processes (huggingface_hub's .locks folder).</summary>
    public string LockPath(HubModelId id, string etag) => Path.Combine(Root, ".locks", id.CacheFolderName, CheckSegment(etag, "etag") + ".lock");

    /// <summary>The cached file for the id's revision, or null; never touches the network.</summary>
    public string? TryResolve(HubModelId id, string fileName)
    {
        string? commit = id.IsCommitHash ? id.Revision : ReadRef(id, id.Revision);
        if (commit is null || !IsSafeSegment(commit)) return null;
        string path = SnapshotPath(id, commit, fileName);
        return File.Exists(path) ? path : null; // File.Exists follows the link: a link to a missing blob is a miss
    }

    /// <summary>The commit recorded for <paramref name="revision"/>, or null.</summary>
    public string? ReadRef(HubModelId id, string revision)
    {
        string path = RefPath(id, revision);
        try { return File.Exists(path) ? File.ReadAllText(path).Trim() : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Records that <paramref name="revision"/> resolved to <paramref name="commit"/> (atomic replace).</summary>
    public void WriteRef(HubModelId id, string revision, string commit)
    {
        if (revision == commit) return; // a commit needs no ref, as in huggingface_hub
        string path = RefPath(id, revision);
        if (File.Exists(path) && File.ReadAllText(path) == commit) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, commit);
    }

    /// <summary>Makes <paramref name="pointer"/> a relative symbolic link to <paramref name="blob"/>, or a copy of it
    /// when links are off or unsupported; the pointer appears atomically.</summary>
    public static void Link(string blob, string pointer, bool useSymlinks)
    {
        string folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(pointer)}.tmp-{Guid.NewGuid():N}");
        try
        {
            bool linked = false;
            if (useSymlinks)
            {
                // Relative, so the cache folder can be moved or mounted elsewhere (huggingface_hub does the same).
                try { File.CreateSymbolicLink(temp, Path.GetRelativePath(folder, blob)); linked = true; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException) { }
            }
            if (!linked) File.Copy(blob, temp);
            File.Move(temp, pointer, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp) || new FileInfo(temp).LinkTarget != null) File.Delete(temp);
        }
    }

    /// <summary>True for a value that can safely be one path segment: the hub's ETags and commit hashes are hex.</summary>
    public static bool IsSafeSegment(string value) => SafeSegmentPattern().IsMatch(value) && value != "." && value != "..";

    /// <summary>Splits a repository file name ("a/b.json") into path segments, refusing anything that could leave
    /// the snapshot folder.</summary>
    public static string[] SplitFileName(string fileName)
    {
        var parts = fileName.Split('/');
        if (fileName.Length == 0 || fileName.Contains('\\') || Path.IsPathRooted(fileName)
            || parts.Any(p => p.Length == 0 || p == "." || p == ".." || p.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0))
            throw new ArgumentException($"'{fileName}' is not a valid file name inside a repository", nameof(fileName));
        return parts;
    }

    private static string CheckSegment(string value, string what) =>
        IsSafeSegment(value) ? value : throw new ArgumentException($"{what} '{value}' cannot be used as a cache path segment");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex SafeSegmentPattern();
}
