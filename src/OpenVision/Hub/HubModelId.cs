using System.Text.RegularExpressions;

namespace OpenVision.Hub;

/// <summary>A model repository on the hub and the revision (branch, tag or commit) to read, as written in
/// open_clip model names: <c>hf-hub:ORG/NAME</c> or <c>hf-hub:ORG/NAME@REVISION</c>.</summary>
public sealed partial record HubModelId
{
    /// <summary>The prefix that marks a model name as a hub repository.</summary>
    public const string Prefix = "hf-hub:";

    /// <summary>The revision used when none is given.</summary>
    public const string DefaultRevision = "main";

    /// <summary>Creates an id after validating both parts; they become folder names, so nothing may escape the cache.</summary>
    public HubModelId(string repoId, string revision = DefaultRevision)
    {
        if (!IsValidRepoId(repoId)) throw new ArgumentException($"'{repoId}' is not a valid hub repository id (ORG/NAME)", nameof(repoId));
        if (!IsValidRevision(revision)) throw new ArgumentException($"'{revision}' is not a valid revision", nameof(revision));
        RepoId = repoId;
        Revision = revision;
    }

    /// <summary>"ORG/NAME" (or a bare "NAME" for legacy repositories).</summary>
    public string RepoId { get; }

    /// <summary>Branch, tag or 40-character commit hash.</summary>
    public string Revision { get; }

    /// <summary>True when <see cref="Revision"/> is a full commit hash, which can never change on the hub.</summary>
    public bool IsCommitHash => CommitHashPattern().IsMatch(Revision);

    /// <summary>The cache folder name huggingface_hub uses: <c>models--ORG--NAME</c>.</summary>
    public string CacheFolderName => "models--" + RepoId.Replace("/", "--", StringComparison.Ordinal);

    /// <summary>Parses <c>hf-hub:ORG/NAME[@REVISION]</c>.</summary>
    /// <exception cref="FormatException">The text lacks the prefix or names an invalid repository or revision.</exception>
    public static HubModelId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a hub model id of the form {Prefix}ORG/NAME[@REVISION]");

    /// <summary>Parses <c>hf-hub:ORG/NAME[@REVISION]</c>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubModelId? id)
    {
        id = null;
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        string rest = text[Prefix.Length..];
        int at = rest.IndexOf('@');
        string repo = at < 0 ? rest : rest[..at], revision = at < 0 ? DefaultRevision : rest[(at + 1)..];
        if (!IsValidRepoId(repo) || !IsValidRevision(revision)) return false;
        id = new HubModelId(repo, revision);
        return true;
    }

    /// <summary>The canonical text form, <c>hf-hub:ORG/NAME@REVISION</c>.</summary>
    public override string ToString() => $"{Prefix}{RepoId}@{Revision}";

    // The hub's own rule: one optional namespace, names of word characters, '-' and '.', no "--" or "..".
    private static bool IsValidRepoId(string repoId) =>
        RepoIdPattern().IsMatch(repoId) && !repoId.Contains("--", StringComparison.Ordinal) && !repoId.Contains("..", StringComparison.Ordinal);

    // Branch and tag names may contain '/', which becomes nested folders under refs/: no empty or dot segments.
    private static bool IsValidRevision(string revision) =>
        RevisionPattern().IsMatch(revision) && revision.Split('/').All(s => s.Length > 0 && s != "." && s != "..");

    [GeneratedRegex(@"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,95}/)?[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}$")]
    private static partial Regex RepoIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.\-/+]{1,255}$")]
    private static partial Regex RevisionPattern();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHashPattern();
}
