namespace OpenVision.Serving;

/// <summary>A request the service refuses: the HTTP status, a stable machine-readable code, a one-line message that
/// names the field at fault and never a .NET type or a server path.</summary>
internal sealed class ApiError(int status, string code, string message, string? param = null) : Exception(message)
{
    public int Status => status;

    public string Code => code;

    public string? Param => param;

    public static ApiError BadRequest(string code, string message, string? param = null) => new(400, code, message, param);

    /// <summary>OpenAI's error types: every client fault is an invalid request, every 5xx a server error.</summary>
    public static string TypeOf(int status) => status >= 500 ? "server_error" : "invalid_request_error";

    /// <summary>Client-supplied text echoed in a message, cut short and kept to one line.</summary>
    public static string Quote(string? text, int max = 60)
    {
        if (text is null) return "(none)";
        var clean = new string(text.Take(max).Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return text.Length > max ? clean + "…" : clean;
    }
}
