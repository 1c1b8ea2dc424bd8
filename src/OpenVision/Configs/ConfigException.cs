namespace OpenVision.Configs;

/// <summary>A model config names keys or values this library does not implement, or is inconsistent.</summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates the exception for config <paramref name="source"/> with its problems.</summary>
    public ConfigException(string source, IReadOnlyList<string> problems)
        : base($"{source}: {string.Join("; ", problems)}")
    {
        Source = source;
        Problems = problems;
    }

    /// <summary>Where the config came from (file, registry name).</summary>
    public new string Source { get; }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Problems { get; }
}
