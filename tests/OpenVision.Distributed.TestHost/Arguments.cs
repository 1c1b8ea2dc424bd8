namespace OpenVision.Distributed.TestHost;

/// <summary>"mode --name value --flag" command lines.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> values = [];

    public string Mode { get; private init; } = "";

    public static Arguments Parse(string[] args)
    {
        if (args.Length == 0) throw new ArgumentException("usage: train|selftest --output DIR [options]");
        var parsed = new Arguments { Mode = args[0] };
        for (int i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--")) throw new ArgumentException($"unexpected argument {args[i]}");
            bool hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--");
            parsed.values[args[i][2..]] = hasValue ? args[++i] : "";
        }
        return parsed;
    }

    public bool Has(string name) => values.ContainsKey(name);

    public string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v) : fallback;

    public string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
}
