using System.Text.Json;

namespace OpenVision.Configs;

/// <summary>Turns System.Text.Json's messages into the field and the problem, in config terms rather than .NET type names.</summary>
internal static class JsonProblem
{
    /// <summary>".vision_cfg.width" from the exception's JSON path ("$.vision_cfg.width"), or "".</summary>
    public static string Field(JsonException e) => e.Path is { Length: > 1 } path && path.StartsWith('$') ? "." + path[1..].TrimStart('.') : "";

    /// <summary>The problem in one line, without the path and position suffix.</summary>
    public static string Describe(JsonException e)
    {
        string message = e.Message;
        int suffix = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (suffix < 0) suffix = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        string core = (suffix >= 0 ? message[..suffix] : message).Trim();
        string position = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
        if (core.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
        {
            string type = core["The JSON value could not be converted to ".Length..].TrimEnd('.');
            return type switch
            {
                "System.Int32" or "System.Int64" => "must be a whole number within range",
                "System.Double" or "System.Single" => "must be a number",
                "System.Boolean" => "must be true or false",
                "System.String" => "must be a string",
                _ when type.StartsWith("System.Double[]", StringComparison.Ordinal) => "must be an array of numbers",
                _ => "has the wrong type",
            } + position;
        }
        const string duplicate = "Duplicate property '";
        int end = core.StartsWith(duplicate, StringComparison.Ordinal) ? core.IndexOf('\'', duplicate.Length) : -1;
        if (end > 0) return $"duplicate key '{core[duplicate.Length..end]}'{position}";
        return core + position;
    }
}
