using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace OpenVision.Configs;

/// <summary>The built-in OpenVision configs, keyed by their Hugging Face hub names (file stem = name).</summary>
public static partial class ModelRegistry
{
    private const string ResourcePrefix = "OpenVision.Configs.Builtin.";
    private static readonly Lazy<FrozenDictionary<string, ModelConfig>> Builtin = new(ReadEmbeddedConfigs);

    /// <summary>The hub organisation that publishes the released weights.</summary>
    public const string HubOrganization = "UCSC-VLAA";

    /// <summary>Every built-in name in natural order: OpenVision before OpenVision 2, then tiny before small, 84 before 224.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. SortNatural(ReadNames())];

    /// <summary>True if <paramref name="name"/> (with or without the hub organisation) is built in.</summary>
    public static bool Contains(string name) => Builtin.Value.ContainsKey(StripOrganization(name));

    /// <summary>The config registered as <paramref name="name"/>; unknown names list the closest ones.</summary>
    public static ModelConfig Get(string name) => TryGet(name, out var config)
        ? config
        : throw new ConfigException(name, [$"no built-in model named '{name}'; closest: {string.Join(", ", ClosestNames(name, 3))}"]);

    /// <summary>Looks up a built-in config.</summary>
    public static bool TryGet(string name, out ModelConfig config) =>
        Builtin.Value.TryGetValue(StripOrganization(name), out config!);

    /// <summary>The names most similar to <paramref name="name"/> (edit distance), for "did you mean" messages.</summary>
    public static IEnumerable<string> ClosestNames(string name, int count) =>
        Names.OrderBy(n => EditDistance(n, StripOrganization(name).ToLowerInvariant())).Take(count);

    private static string StripOrganization(string name) =>
        name.StartsWith(HubOrganization + "/", StringComparison.OrdinalIgnoreCase) ? name[(HubOrganization.Length + 1)..] : name;

    private static IEnumerable<string> ReadNames() =>
        typeof(ModelRegistry).Assembly.GetManifestResourceNames()
            .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal) && r.EndsWith(".json", StringComparison.Ordinal))
            .Select(r => r[ResourcePrefix.Length..^".json".Length]);

    private static FrozenDictionary<string, ModelConfig> ReadEmbeddedConfigs()
    {
        var assembly = typeof(ModelRegistry).Assembly;
        return Names.ToFrozenDictionary(name => name, name =>
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name + ".json")!;
            using var reader = new StreamReader(stream);
            return ConfigJson.Parse(reader.ReadToEnd(), name);
        });
    }

    // Sort by generation, then "tiny < small < base < large < so400m < huge < giant", then patch and resolution numerically.
    private static IEnumerable<string> SortNatural(IEnumerable<string> names)
    {
        string[] sizeOrder = ["tiny", "small", "base", "large", "so400m", "huge", "giant"];
        return names.OrderBy(n => n.StartsWith("openvision2-", StringComparison.Ordinal)).ThenBy(n =>
        {
            var m = NamePattern().Match(n);
            return m.Success ? Array.IndexOf(sizeOrder, m.Groups[1].Value) : int.MaxValue;
        }).ThenBy(n => NamePattern().Match(n) is { Success: true } m ? int.Parse(m.Groups[2].Value) : 0)
          .ThenBy(n => NamePattern().Match(n) is { Success: true } m ? int.Parse(m.Groups[3].Value) : 0)
          .ThenBy(n => n, StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^openvision2?-vit-([a-z0-9]+)-patch(\d+)-(\d+)(-vision-only)?$")]
    private static partial Regex NamePattern();

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
