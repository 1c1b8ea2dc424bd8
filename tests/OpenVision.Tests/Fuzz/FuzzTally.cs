namespace OpenVision.Tests.Fuzz;

/// <summary>Counts fuzz outcomes per category and prints them as the table the issue asks for.</summary>
public sealed class FuzzTally
{
    private readonly SortedDictionary<string, int[]> rows = new(StringComparer.Ordinal);
    private readonly List<string> others = [];

    /// <summary>Records one case: 0 accepted, 1 rejected with the library's one-line error, 2 anything else.</summary>
    public void Add(string category, int outcome, string? detail = null)
    {
        if (!rows.TryGetValue(category, out var row)) rows[category] = row = new int[3];
        row[outcome]++;
        if (outcome == 2) others.Add($"{category}: {detail}");
    }

    /// <summary>Every case that was neither accepted nor cleanly rejected.</summary>
    public IReadOnlyList<string> Others => others;

    /// <summary>The Markdown table: category, cases, accepted, rejected cleanly, other.</summary>
    public string Table(string acceptedName)
    {
        var lines = new List<string> { $"| category | cases | {acceptedName} | rejected with clean error | other |", "|---|---:|---:|---:|---:|" };
        foreach (var (name, r) in rows) lines.Add($"| {name} | {r.Sum()} | {r[0]} | {r[1]} | {r[2]} |");
        return string.Join("\n", lines);
    }

    /// <summary>Cases counted in total.</summary>
    public int Total => rows.Values.Sum(r => r.Sum());
}
